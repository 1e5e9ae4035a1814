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
      coordinators: [DEFAULT_COORDINATOR],
      seeds: [],
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
    expect(run(['nodes'], env).globals.coordinators).toEqual(['10.0.0.1:6000']);
    expect(run(['--coordinator', 'h:1', 'nodes'], env).globals.coordinators).toEqual(['h:1']);
    expect(run(['nodes'], { KV_COORDINATOR: '' }).globals.coordinators).toEqual([
      DEFAULT_COORDINATOR,
    ]);
  });

  it('reads several coordinators and seeds, from flags or variables', () => {
    expect(
      run(['--coordinator', 'a:1, b:2,a:1', '--seeds', 'n:3,n:4', 'get', 'k']).globals,
    ).toMatchObject({
      coordinators: ['a:1', 'b:2'],
      seeds: ['n:3', 'n:4'],
    });
    expect(run(['status'], { KV_SEEDS: 'n:3', KV_COORDINATOR: 'c:5' }).globals).toMatchObject({
      coordinators: ['c:5'],
      seeds: ['n:3'],
    });
    expect(run(['--seeds', 'n:4', 'status'], { KV_SEEDS: 'n:3' }).globals.seeds).toEqual(['n:4']);
  });

  it('asks no default coordinator when only seeds are given', () => {
    expect(run(['get', 'k'], { KV_SEEDS: 'n:3' }).globals).toMatchObject({
      coordinators: [],
      seeds: ['n:3'],
    });
  });

  it.each<[string[], Record<string, string>, string]>([
    [
      ['--seeds', 'n:3,nowhere', 'get', 'k'],
      {},
      '--seeds must be host:port (e.g. 127.0.0.1:5000), got "nowhere"',
    ],
    [
      ['get', 'k'],
      { KV_SEEDS: 'n:70000' },
      'KV_SEEDS must be host:port (e.g. 127.0.0.1:5000), got "n:70000"',
    ],
    [
      ['--coordinator', ',', 'get', 'k'],
      {},
      '--coordinator must list host:port addresses, got ","',
    ],
    [
      ['get', 'k'],
      { KV_COORDINATOR: 'a:1,b' },
      'KV_COORDINATOR must be host:port (e.g. 127.0.0.1:5000), got "b"',
    ],
  ])('refuses bad addresses: %j %j', (argv, env, message) => {
    expect(() => run(argv, env)).toThrow(new UsageError(message));
  });

  it('refuses on kv cluster the flags it does not take, and hides them from its help', () => {
    const help = parseCommandLine(['cluster', '--help'], {});
    const text = help.kind === 'print' ? help.text : '';
    const listed = [...text.matchAll(/^\s+(--[\w-]+)/gm)].map((m) => m[1]);
    expect(listed).toEqual(expect.arrayContaining(['--restart-dead', '--timeout', '--tls']));
    expect(text).toMatch(/--timeout +ms to wait for every node to serve/);
    for (const flag of ['--coordinator', '--seeds', '--json', '--user', '--password', '--tls-ca'])
      expect(listed).not.toContain(flag);
    expect(run(['cluster', '--timeout', '900']).globals.timeoutMs).toBe(900);
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
