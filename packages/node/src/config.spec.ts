import { envVarOf, parseNodeConfig } from './config';
import { DURABLE_MAX_IN_FLIGHT, NODE_DEFAULTS, type NodeOptions } from './node-options';
import { resolveNodeOptions } from './resolve-node-options';
import { startNode } from './node';

describe('parseNodeConfig', () => {
  it('takes defaults, then the environment, then flags', async () => {
    const defaults = await parseNodeConfig([], {});
    expect(defaults).toMatchObject({
      kind: 'start',
      options: {
        port: 5001,
        host: '127.0.0.1',
        coordinator: '127.0.0.1:5000',
        writeQuorum: 2,
        readQuorum: 1,
      },
    });
    const fromEnv = await parseNodeConfig([], {
      KV_PORT: '5002',
      KV_WRITE_QUORUM: '3',
      KV_FAILURE_TIMEOUT: '1',
    });
    expect(fromEnv).toMatchObject({ options: { port: 5002, writeQuorum: 3 } });
    const flagsWin = await parseNodeConfig(['--port', '5003', '--zone', 'b'], { KV_PORT: '5002' });
    expect(flagsWin).toMatchObject({ options: { port: 5003, zone: 'b' } });
  });

  it('takes every default it has from NODE_DEFAULTS', async () => {
    const parsed = await parseNodeConfig([], {});
    const options = (parsed as { options: NodeOptions }).options;
    const defaults: Record<string, unknown> = NODE_DEFAULTS;
    // The bound on requests in flight depends on the storage: see the test below.
    const shared = Object.entries(options).filter(
      ([name]) => name in defaults && name !== 'maxInFlight',
    );
    expect(shared.length).toBeGreaterThanOrEqual(20);
    for (const [name, value] of shared) expect([name, value]).toEqual([name, defaults[name]]);
  });

  it('reads the connection and shutdown bounds', async () => {
    expect(
      await parseNodeConfig(['--request-timeout', '0', '--shutdown-grace', '250'], {
        KV_WEIGHT: '100',
      }),
    ).toMatchObject({ options: { requestTimeoutMs: 0, shutdownGraceMs: 250, weight: 100 } });
  });

  it('reads the TLS flags and their variables', async () => {
    const flags = await parseNodeConfig(
      ['--tls-cert', 'c.pem', '--tls-key', 'k.pem', '--tls-ca', 'ca.pem', '--tls-client-certs'],
      {},
    );
    expect(flags).toMatchObject({
      options: {
        tlsCert: 'c.pem',
        tlsKey: 'k.pem',
        tlsCa: 'ca.pem',
        tlsClientCerts: true,
        tlsHandshakeTimeoutMs: 10_000,
      },
    });
    const env = await parseNodeConfig([], {
      KV_TLS_CERT: 'c.pem',
      KV_TLS_KEY: 'k.pem',
      KV_TLS_CLIENT_CERTS: 'true',
      KV_TLS_HANDSHAKE_TIMEOUT: '500',
    });
    expect(env).toMatchObject({
      options: { tlsCert: 'c.pem', tlsClientCerts: true, tlsHandshakeTimeoutMs: 500 },
    });
    expect(await parseNodeConfig([], {})).toMatchObject({
      options: { tlsCert: undefined, tlsClientCerts: false },
    });
    expect(await parseNodeConfig([], { KV_TLS_CLIENT_CERTS: 'maybe' })).toEqual({
      kind: 'exit',
      code: 2,
      output: 'kv-node: KV_TLS_CLIENT_CERTS must be true or false, got maybe',
    });
  });

  it('reads the storage flags: data directory, engine and fsync mode', async () => {
    expect(await parseNodeConfig([], {})).toMatchObject({
      options: { dataDir: undefined, engine: undefined, fsync: 'always' },
    });
    expect(
      await parseNodeConfig(['--data-dir', '/var/lib/kv', '--fsync', 'periodic'], {
        KV_ENGINE: 'lmdb',
      }),
    ).toMatchObject({ options: { dataDir: '/var/lib/kv', engine: 'lmdb', fsync: 'periodic' } });
    expect(await parseNodeConfig(['--fsync', 'sometimes'], {})).toEqual({
      kind: 'exit',
      code: 2,
      output: expect.stringContaining('--fsync must be one of always, periodic, never'),
    });
    expect(await parseNodeConfig(['--engine', 'disk'], {})).toMatchObject({
      kind: 'exit',
      code: 2,
    });
  });

  it('bounds requests in flight higher where they mostly wait for a sync, unless told', async () => {
    const bound = async (argv: string[]): Promise<number> => {
      const parsed = (await parseNodeConfig(argv, {})) as { options: NodeOptions };
      return resolveNodeOptions(parsed.options).maxInFlight;
    };
    expect(await bound([])).toBe(NODE_DEFAULTS.maxInFlight);
    expect(await bound(['--data-dir', '/var/lib/kv'])).toBe(DURABLE_MAX_IN_FLIGHT);
    expect(await bound(['--data-dir', '/var/lib/kv', '--fsync', 'periodic'])).toBe(
      NODE_DEFAULTS.maxInFlight,
    );
    expect(await bound(['--data-dir', '/var/lib/kv', '--max-in-flight', '64'])).toBe(64);
    expect(await bound(['--data-dir', '/var/lib/kv', '--max-in-flight', '0'])).toBe(0);
    // Started from code, without the flags' checks: the same bounds hold.
    expect(() => resolveNodeOptions({ port: 0, maxInFlight: -1 })).toThrow(
      'max in flight must be a whole number of requests (0 for no bound), got -1',
    );
    expect(() => resolveNodeOptions({ port: 0, maxInFlight: 1.5 })).toThrow(/max in flight/);
    expect(() => resolveNodeOptions({ port: 0, maxReplicaQueue: 0 })).toThrow(
      'max replica queue must be a whole number of requests from 1, got 0',
    );
  });

  it('reads the fsync interval of periodic mode, a second by default', async () => {
    expect(await parseNodeConfig([], {})).toMatchObject({ options: { fsyncIntervalMs: 1000 } });
    expect(
      await parseNodeConfig(['--fsync', 'periodic', '--fsync-interval', '50'], {}),
    ).toMatchObject({ options: { fsync: 'periodic', fsyncIntervalMs: 50 } });
    expect(await parseNodeConfig([], { KV_FSYNC_INTERVAL: '200' })).toMatchObject({
      options: { fsyncIntervalMs: 200 },
    });
    for (const bad of ['0', '-1', '2.5'])
      await expect(
        startNode({ port: 0, silent: true, fsyncIntervalMs: Number(bad) }),
      ).rejects.toThrow(
        `fsync interval must be a whole number of milliseconds from 1, got ${Number(bad)}`,
      );
  });

  it('names the environment variable of each flag', () => {
    expect(envVarOf('max-key-bytes')).toBe('KV_MAX_KEY_BYTES');
  });

  it.each([
    [['--port', '-1'], '--port must be an integer from 0 to 65535, got -1'],
    [['--port', '70000'], '--port must be an integer from 0 to 65535, got 70000'],
    [['--write-quorum', '0'], '--write-quorum must be an integer ≥ 1, got 0'],
    [['--weight', '0'], '--weight must be a number > 0 and ≤ 100, got 0'],
    [['--weight', '101'], '--weight must be a number > 0 and ≤ 100, got 101'],
    [['--request-timeout', '-1'], '--request-timeout must be an integer ≥ 0, got -1'],
    [['--shutdown-grace', '1.5'], '--shutdown-grace must be an integer ≥ 0, got 1.5'],
    [['--log-format', 'xml'], '--log-format must be one of pretty, json, got xml'],
    [['--metrics-port', '65536'], '--metrics-port must be an integer from 0 to 65535, got 65536'],
    [['--no-such-flag'], 'Unknown argument'],
  ])('rejects %j with exit code 2', async (argv, message) => {
    const result = await parseNodeConfig(argv, {});
    expect(result.kind).toBe('exit');
    expect(result).toMatchObject({ code: 2 });
    expect((result as { output: string }).output).toContain(message);
  });

  it('serves metrics only when given a port, from KV_METRICS_PORT or the flag', async () => {
    const off = await parseNodeConfig([], {});
    expect((off as { options: NodeOptions }).options.metricsPort).toBeUndefined();
    expect(await parseNodeConfig([], { KV_METRICS_PORT: '9101' })).toMatchObject({
      options: { metricsPort: 9101 },
    });
    expect(
      await parseNodeConfig(['--metrics-port', '0'], { KV_METRICS_PORT: '9101' }),
    ).toMatchObject({ options: { metricsPort: 0 } });
  });

  it('rejects a bad value from the environment too', async () => {
    expect(await parseNodeConfig([], { KV_READ_QUORUM: 'two' })).toMatchObject({
      kind: 'exit',
      code: 2,
    });
  });

  it('prints help with exit code 0', async () => {
    const result = await parseNodeConfig(['--help'], {});
    expect(result).toMatchObject({ kind: 'exit', code: 0 });
    expect((result as { output: string }).output).toMatch(/--write-quorum[\s\S]*KV_WRITE_QUORUM/);
  });
});
