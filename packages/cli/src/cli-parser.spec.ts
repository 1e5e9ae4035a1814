import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_COORDINATOR, parseCommandLine, type Invocation } from './cli-parser';
import { UsageError } from './errors';

function run(
  argv: string[],
  env: Record<string, string> = {},
): Extract<Invocation, { kind: 'run' }> {
  // No cluster secret file is found unless a test names one.
  const invocation = parseCommandLine(argv, {
    KV_CLUSTER_SECRET_FILE: '/nonexistent/kv-test/cluster.secret',
    ...env,
  });
  if (invocation.kind !== 'run') throw new Error('expected a command to run');
  return invocation;
}

describe('parseCommandLine', () => {
  it('starts the shell without a command, with the default coordinator', () => {
    const invocation = run([]);
    expect(invocation.command).toBe('shell');
    expect(invocation.globals).toEqual({
      coordinator: DEFAULT_COORDINATOR,
      json: false,
      timeoutMs: undefined,
      credentials: {},
      tls: undefined,
    });
  });

  it('turns TLS on with --tls, KV_TLS or a TLS file, reading the files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kv-cli-tls-'));
    try {
      const ca = join(dir, 'ca.pem');
      const pem = '-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n';
      await writeFile(ca, pem);
      expect(run(['--tls', 'get', 'k']).globals.tls).toEqual({});
      expect(run(['get', 'k'], { KV_TLS: '1' }).globals.tls).toEqual({});
      expect(run(['get', 'k'], { KV_TLS: '0' }).globals.tls).toBeUndefined();
      expect(run(['--tls-ca', ca, 'status']).globals.tls).toEqual({ ca: Buffer.from(pem) });
      expect(run(['status'], { KV_TLS_CA: ca }).globals.tls).toEqual({ ca: Buffer.from(pem) });
      expect(() => run(['--tls-cert', ca, 'status'])).toThrow(
        new UsageError('--tls-cert needs --tls-key: a client certificate comes with its key'),
      );
      expect(() => run(['--tls-ca', join(dir, 'nope.pem'), 'status'])).toThrow(
        `cannot read --tls-ca ${join(dir, 'nope.pem')} (ENOENT)`,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reads the credentials: a password wins over a cluster secret', () => {
    expect(run(['--user', 'app', '--password', 'pw', 'get', 'k']).globals.credentials).toEqual({
      user: 'app',
      password: 'pw',
    });
    expect(
      run(['get', 'k'], { KV_PASSWORD: 'pw', KV_CLUSTER_SECRET: 'a secret of 16+ bytes' }).globals
        .credentials,
    ).toEqual({ user: undefined, password: 'pw' });
    expect(
      run(['status'], { KV_CLUSTER_SECRET: 'a secret of 16+ bytes' }).globals.credentials,
    ).toEqual({ clusterSecret: Buffer.from('a secret of 16+ bytes') });
    expect(() => run(['--user', 'app', 'get', 'k'])).toThrow(
      '--user needs a password: --password or KV_PASSWORD',
    );
    expect(() => run(['--cluster-secret-file', '/nonexistent/s', 'status'])).toThrow(
      /cannot read the cluster secret file \/nonexistent\/s \(ENOENT\)/,
    );
  });

  it('reads the subcommands and their arguments', () => {
    expect(run(['put', 'user:1', 'Alice', 'Smith']).args).toMatchObject({
      key: 'user:1',
      value: ['Alice', 'Smith'],
    });
    expect(run(['get', 'user:1']).command).toBe('get');
    expect(run(['del', 'user:1']).command).toBe('delete');
    expect(run(['nodes', '--all']).args['all']).toBe(true);
    expect(run(['status']).args['sample']).toBe('1000');
    expect(run(['cluster', '--nodes', '1']).args).toMatchObject({
      nodes: '1',
      'base-port': '5000',
    });
    expect(run(['-c', 'GET k']).args['command']).toBe('GET k');
  });

  it('keeps numbers as typed and reads words after -- as arguments', () => {
    expect(run(['put', 'k', '007']).args['value']).toEqual(['007']);
    expect(run(['put', 'k', '--', '-5', '--ttl']).args['value']).toEqual(['-5', '--ttl']);
    expect(run(['get', '--', '--json']).args['key']).toBe('--json');
  });

  it('takes the coordinator from the flag, then KV_COORDINATOR', () => {
    const env = { KV_COORDINATOR: '10.0.0.1:6000' };
    expect(run(['nodes'], env).globals.coordinator).toBe('10.0.0.1:6000');
    expect(run(['--coordinator', 'h:1', 'nodes'], env).globals.coordinator).toBe('h:1');
    expect(run(['nodes'], { KV_COORDINATOR: '' }).globals.coordinator).toBe(DEFAULT_COORDINATOR);
  });

  it('reads the global flags before or after the command', () => {
    expect(run(['--json', 'get', 'k']).globals.json).toBe(true);
    expect(run(['get', 'k', '--json', '--timeout', '250']).globals).toMatchObject({
      json: true,
      timeoutMs: 250,
    });
  });

  it('prints help and version', () => {
    const help = parseCommandLine(['--help'], {});
    expect(help.kind).toBe('print');
    expect(help.kind === 'print' && help.text).toContain('kv put <key> <value..>');
    const put = parseCommandLine(['put', '--help'], {});
    expect(put.kind === 'print' && put.text).toContain('--ttl');
    expect(parseCommandLine(['--version'], {})).toMatchObject({ kind: 'print' });
  });

  it.each([
    [['foo'], "unknown command 'foo' (see kv --help)"],
    [['get'], 'missing arguments: usage kv get <key>'],
    [['put', 'k'], 'missing arguments: usage kv put <key> <value> [--ttl seconds]'],
    [['get', 'a', 'b'], 'Unknown argument: b (see kv --help)'],
    [['get', 'k', '--bogus'], 'Unknown argument: bogus (see kv --help)'],
    [['--coordinator'], 'Not enough arguments following: coordinator (see kv --help)'],
    [['--json', 'node'], "'node' must be the first argument: kv node [options]"],
    [
      ['--coordinator', 'nohost', 'nodes'],
      '--coordinator must be host:port (e.g. 127.0.0.1:5000), got "nohost"',
    ],
    [
      ['--coordinator', 'h:70000', 'nodes'],
      '--coordinator must be host:port (e.g. 127.0.0.1:5000), got "h:70000"',
    ],
    [['--timeout', '0', 'nodes'], '--timeout must be an integer of at least 1, got "0"'],
    [['--timeout', '1.5', 'nodes'], '--timeout must be an integer of at least 1, got "1.5"'],
  ])('rejects %j', (argv, message) => {
    expect(() => parseCommandLine(argv, {})).toThrow(new UsageError(message));
  });

  it('names KV_COORDINATOR when the bad address came from it', () => {
    expect(() => parseCommandLine(['nodes'], { KV_COORDINATOR: 'x' })).toThrow(
      'KV_COORDINATOR must be host:port',
    );
  });
});
