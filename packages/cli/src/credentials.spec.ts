import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultSecretFile, ensureSecretFile, findCredentials } from './credentials';
import { UsageError } from './errors';

let home: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'kv-home-'));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

describe('defaultSecretFile', () => {
  it('is KV_CLUSTER_SECRET_FILE, else ~/.kv/cluster.secret', () => {
    expect(defaultSecretFile({}, () => home)).toBe(join(home, '.kv', 'cluster.secret'));
    expect(defaultSecretFile({ KV_CLUSTER_SECRET_FILE: '/etc/kv/s' }, () => home)).toBe(
      '/etc/kv/s',
    );
  });
});

describe('ensureSecretFile', () => {
  it('creates a random secret readable by its owner only, and keeps it on the next start', () => {
    const file = join(home, '.kv', 'cluster.secret');
    expect(ensureSecretFile(file)).toBe(true);
    const secret = readFileSync(file, 'utf8');
    expect(secret).toMatch(/^[0-9a-f]{64}\n$/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, '.kv')).mode & 0o777).toBe(0o700);
    expect(ensureSecretFile(file)).toBe(false);
    expect(readFileSync(file, 'utf8')).toBe(secret);
    const other = join(home, 'other.secret');
    ensureSecretFile(other);
    expect(readFileSync(other, 'utf8')).not.toBe(secret);
  });

  it('refuses an existing file that holds too short a secret', () => {
    const file = join(home, 'short.secret');
    writeFileSync(file, 'short\n');
    expect(() => ensureSecretFile(file)).toThrow(/has 5 bytes, fewer than 16/);
  });
});

describe('findCredentials', () => {
  it('finds the secret in the default file when it exists, and nothing otherwise', () => {
    expect(findCredentials({}, {}, () => home)).toEqual({});
    ensureSecretFile(join(home, '.kv', 'cluster.secret'));
    const found = findCredentials({}, {}, () => home);
    expect(found.clusterSecret?.toString()).toMatch(/^[0-9a-f]{64}$/);
  });

  it('prefers the flag, then KV_CLUSTER_SECRET, then the default file', () => {
    const flagged = join(home, 'flag.secret');
    writeFileSync(flagged, 'the secret named by the flag\n');
    ensureSecretFile(join(home, '.kv', 'cluster.secret'));
    const env = { KV_CLUSTER_SECRET: 'the secret in the environment' };
    expect(
      findCredentials({ secretFile: flagged }, env, () => home).clusterSecret?.toString(),
    ).toBe('the secret named by the flag');
    expect(findCredentials({}, env, () => home).clusterSecret?.toString()).toBe(
      'the secret in the environment',
    );
  });

  it('turns an unreadable or short secret into a usage error', () => {
    expect(() => findCredentials({ secretFile: join(home, 'missing') }, {}, () => home)).toThrow(
      UsageError,
    );
  });
});
