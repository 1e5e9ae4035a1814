import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isLoopbackHost, loadAccessSettings, readClusterSecret } from './access-settings';
import { InvalidSecretError, InvalidUsersError } from './errors';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kv-access-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text, { mode: 0o600 });
  return path;
}

describe('loadAccessSettings', () => {
  it('is empty when nothing is configured', () => {
    expect(loadAccessSettings({})).toEqual({ clusterSecret: undefined, users: undefined });
  });

  it('reads the secret file without its trailing newline; the file wins over the variable', () => {
    const path = file('secret', 'abcdefghijklmnopqrstuvwxyz\n');
    expect(readClusterSecret(path).toString()).toBe('abcdefghijklmnopqrstuvwxyz');
    const settings = loadAccessSettings({
      clusterSecretFile: path,
      clusterSecret: 'from the environment, long enough',
    });
    expect(settings.clusterSecret?.toString()).toBe('abcdefghijklmnopqrstuvwxyz');
    expect(
      loadAccessSettings({
        clusterSecret: 'from the environment, long enough',
      }).clusterSecret?.toString(),
    ).toBe('from the environment, long enough');
  });

  it('refuses a short secret, a missing file, and users without a secret', () => {
    expect(() => loadAccessSettings({ clusterSecretFile: file('s', 'short\n') })).toThrow(
      /has 5 bytes, fewer than 16/,
    );
    expect(() => loadAccessSettings({ clusterSecret: 'short' })).toThrow(InvalidSecretError);
    expect(() => loadAccessSettings({ clusterSecretFile: join(dir, 'missing') })).toThrow(
      /cannot read the cluster secret file .*missing \(ENOENT\)/,
    );
    expect(() => loadAccessSettings({ password: 'pw' })).toThrow(InvalidUsersError);
    expect(() => loadAccessSettings({ password: 'pw' })).toThrow(/no cluster secret/);
  });

  it('adds KV_PASSWORD as the read-write default user, unless the file has one', () => {
    const secret = 'a secret long enough for a cluster';
    const users = file('users', 'alice admin >a\n');
    const settings = loadAccessSettings({
      clusterSecret: secret,
      usersFile: users,
      password: 'pw',
    });
    expect(settings.users?.size).toBe(2);
    expect(settings.users?.verify('default', 'pw')?.permission).toBe('read-write');
    expect(settings.users?.verify('alice', 'a')?.permission).toBe('admin');
    const both = file('users2', 'default admin >x\n');
    expect(() =>
      loadAccessSettings({ clusterSecret: secret, usersFile: both, password: 'pw' }),
    ).toThrow(/KV_PASSWORD sets the password of the user 'default'/);
  });
});

describe('isLoopbackHost', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.10.0.3', true],
    ['localhost', true],
    ['::1', true],
    ['[::1]', true],
    ['0:0:0:0:0:0:0:1', true],
    ['::ffff:127.0.0.1', true],
    ['0.0.0.0', false],
    ['::', false],
    ['10.0.0.5', false],
    ['192.168.1.2', false],
    ['example.com', false],
    ['128.0.0.1', false],
  ])('%s → %s', (host, loopback) => {
    expect(isLoopbackHost(host)).toBe(loopback);
  });
});
