import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_VNODES_PER_WEIGHT } from '@kv/ring';
import { DEFAULT_CONFIG, envVarOf, parseConfig, resolveConfig, type CommandLine } from './config';
import { ConfigError } from './errors';

function configOf(commandLine: CommandLine): Record<string, unknown> {
  if (commandLine.action !== 'start') throw new Error('expected a configuration');
  return { ...commandLine.config };
}

function failure(argv: string[], env: Record<string, string> = {}): ConfigError {
  try {
    parseConfig(argv, env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig', () => {
  it('uses the defaults without flags or environment', () => {
    expect(configOf(parseConfig([], {}))).toEqual({
      host: '127.0.0.1',
      port: 5000,
      dataDir: undefined,
      store: { kind: 'file' },
      leaseTtlSeconds: 5,
      advertise: undefined,
      heartbeatIntervalMs: 1000,
      failureTimeoutMs: 5000,
      replicationFactor: 3,
      vnodesPerWeight: DEFAULT_VNODES_PER_WEIGHT,
      idleTimeoutMs: 60000,
      requestTimeoutMs: 30000,
      maxConnections: 10000,
      clusterSecretFile: undefined,
      usersFile: undefined,
      insecure: false,
      tlsCert: undefined,
      tlsKey: undefined,
      tlsCa: undefined,
      tlsClientCerts: false,
      tlsHandshakeTimeoutMs: 10000,
      logLevel: 'info',
      logFormat: 'pretty',
    });
    expect(configOf(parseConfig([], {}))).toEqual({ ...DEFAULT_CONFIG });
  });

  it('reads every flag', () => {
    const argv = [
      '--host=0.0.0.0',
      '--port',
      '5100',
      '--data-dir',
      './coord',
      '--store',
      'file',
      '--lease-ttl',
      '7',
      '--advertise',
      'coord-1.internal:5100',
      '--heartbeat-interval',
      '200',
      '--failure-timeout',
      '1000',
      '--replication-factor',
      '2',
      '--vnodes-per-weight',
      '64',
      '--idle-timeout',
      '0',
      '--request-timeout',
      '250',
      '--max-connections',
      '50',
      '--cluster-secret-file',
      '/etc/kv/cluster.secret',
      '--users-file',
      '/etc/kv/users',
      '--insecure',
      '--tls-cert',
      'c.pem',
      '--tls-key',
      'k.pem',
      '--tls-ca',
      'ca.pem',
      '--tls-client-certs',
      '--tls-handshake-timeout',
      '500',
      '--metrics-port',
      '9100',
      '--log-level',
      'debug',
      '--log-format',
      'json',
    ];
    expect(configOf(parseConfig(argv, {}))).toEqual({
      host: '0.0.0.0',
      port: 5100,
      dataDir: './coord',
      store: { kind: 'file' },
      leaseTtlSeconds: 7,
      advertise: 'coord-1.internal:5100',
      heartbeatIntervalMs: 200,
      failureTimeoutMs: 1000,
      replicationFactor: 2,
      vnodesPerWeight: 64,
      idleTimeoutMs: 0,
      requestTimeoutMs: 250,
      maxConnections: 50,
      clusterSecretFile: '/etc/kv/cluster.secret',
      usersFile: '/etc/kv/users',
      insecure: true,
      tlsCert: 'c.pem',
      tlsKey: 'k.pem',
      tlsCa: 'ca.pem',
      tlsClientCerts: true,
      tlsHandshakeTimeoutMs: 500,
      metricsPort: 9100,
      logLevel: 'debug',
      logFormat: 'json',
    });
  });

  it('reads an etcd store: several endpoints, and a key prefix or /kv/', () => {
    expect(
      configOf(parseConfig(['--store', 'etcd://10.0.0.1:2379,10.0.0.2:2379'], {})).store,
    ).toEqual({
      kind: 'etcd',
      endpoints: ['10.0.0.1:2379', '10.0.0.2:2379'],
      prefix: '/kv/',
    });
    expect(configOf(parseConfig([], { KV_STORE: 'etcd://127.0.0.1:2379/prod/kv' })).store).toEqual({
      kind: 'etcd',
      endpoints: ['127.0.0.1:2379'],
      prefix: '/prod/kv/',
    });
  });

  it('refuses a store it cannot use, and a data directory beside etcd', () => {
    expect(failure(['--store', 'redis://h:1']).message).toBe(
      '--store must be file or etcd://host:port[,host:port...][/prefix], got "redis://h:1"',
    );
    expect(failure(['--store', 'etcd://h:1,nowhere']).message).toMatch(
      /--store must be .*: 'nowhere' is not host:port$/,
    );
    expect(failure(['--store', 'etcd://h:1/']).message).toMatch(
      /the key prefix must be a path like \/kv$/,
    );
    expect(failure(['--store', 'etcd://h:1', '--data-dir', 'd']).message).toMatch(
      /^--data-dir and an etcd --store exclude each other/,
    );
    expect(failure(['--advertise', 'coord-1']).message).toBe(
      '--advertise must be host:port, got "coord-1"',
    );
    expect(failure(['--lease-ttl', '1']).message).toBe(
      '--lease-ttl must be an integer from 2 to 3600, got "1"',
    );
  });

  it('reads the TLS switch from KV_TLS_CLIENT_CERTS, and refuses what is not a boolean', () => {
    expect(configOf(parseConfig([], { KV_TLS_CLIENT_CERTS: 'yes' })).tlsClientCerts).toBe(true);
    expect(configOf(parseConfig([], { KV_TLS_CLIENT_CERTS: '0' })).tlsClientCerts).toBe(false);
    expect(() => parseConfig([], { KV_TLS_CLIENT_CERTS: 'maybe' })).toThrow(
      'KV_TLS_CLIENT_CERTS must be true or false, got "maybe"',
    );
  });

  it('reads KV_* environment variables, and flags win over them', () => {
    const env = {
      KV_PORT: '5200',
      KV_DATA_DIR: '/var/lib/kv',
      KV_FAILURE_TIMEOUT: '3000',
      KV_LOG_FORMAT: 'json',
    };
    expect(configOf(parseConfig([], env))).toMatchObject({
      port: 5200,
      dataDir: '/var/lib/kv',
      failureTimeoutMs: 3000,
      logFormat: 'json',
    });
    expect(configOf(parseConfig(['--port', '5300', '--log-format', 'pretty'], env))).toMatchObject({
      port: 5300,
      dataDir: '/var/lib/kv',
      failureTimeoutMs: 3000,
      logFormat: 'pretty',
    });
  });

  it('ignores empty and unrelated KV_* variables', () => {
    const env = { KV_PORT: '', KV_CLUSTER_SECRET: 's3cret', KV_COORDINATOR: '10.0.0.1:5000' };
    expect(configOf(parseConfig([], env))).toEqual({ ...DEFAULT_CONFIG });
  });

  it('lets the last of a repeated flag win', () => {
    expect(configOf(parseConfig(['--port', '1', '--port', '2'], {})).port).toBe(2);
  });

  it('serves metrics only when given a port, from KV_METRICS_PORT or the flag', () => {
    expect(configOf(parseConfig([], {})).metricsPort).toBeUndefined();
    expect(configOf(parseConfig([], { KV_METRICS_PORT: '9100' })).metricsPort).toBe(9100);
    expect(
      configOf(parseConfig(['--metrics-port', '0'], { KV_METRICS_PORT: '9100' })).metricsPort,
    ).toBe(0);
  });

  it('names environment variables after their flags', () => {
    expect(envVarOf('data-dir')).toBe('KV_DATA_DIR');
    expect(envVarOf('heartbeat-interval')).toBe('KV_HEARTBEAT_INTERVAL');
  });

  it.each([
    [['--port', '70000'], '--port must be an integer from 0 to 65535, got "70000"'],
    [['--port', 'abc'], '--port must be an integer from 0 to 65535, got "abc"'],
    [['--port', '50.5'], '--port must be an integer from 0 to 65535, got "50.5"'],
    [
      ['--failure-timeout', '-5'],
      '--failure-timeout must be an integer from 1 to 2147483647, got "-5"',
    ],
    [
      ['--heartbeat-interval=-1'],
      '--heartbeat-interval must be an integer from 1 to 2147483647, got "-1"',
    ],
    [['--idle-timeout', '-1'], '--idle-timeout must be an integer from 0 to 2147483647, got "-1"'],
    [
      ['--replication-factor', '0'],
      '--replication-factor must be an integer from 1 to 1000000, got "0"',
    ],
    [['--max-connections', '0'], '--max-connections must be an integer from 1 to 1000000, got "0"'],
    [
      ['--log-level', 'verbose'],
      '--log-level must be one of error, warn, info, debug, got "verbose"',
    ],
    [['--log-format', 'xml'], '--log-format must be one of pretty, json, got "xml"'],
    [['--metrics-port', '-1'], '--metrics-port must be an integer from 0 to 65535, got "-1"'],
    [['--data-dir', ''], '--data-dir must be a directory path, got ""'],
    [
      ['--failure-timeout', '1000'],
      '--failure-timeout (1000 ms) must be greater than --heartbeat-interval (1000 ms), or live nodes would be declared dead between two heartbeats',
    ],
    [
      ['--heartbeat-interval', '6000'],
      '--failure-timeout (5000 ms) must be greater than --heartbeat-interval (6000 ms)',
    ],
    [['--bogus'], 'Unknown argument: bogus (see --help)'],
    [['extra'], 'Unknown argument: extra (see --help)'],
    [['--port'], 'Not enough arguments following: port (see --help)'],
  ])('rejects %j with a one-line message', (argv, message) => {
    const err = failure(argv);
    expect(err.message).toContain(message);
    expect(err.message).not.toContain('\n');
  });

  it('names the environment variable a bad value came from', () => {
    expect(failure([], { KV_PORT: '70000' }).message).toBe(
      'KV_PORT must be an integer from 0 to 65535, got "70000"',
    );
    expect(failure(['--heartbeat-interval', '500'], { KV_FAILURE_TIMEOUT: '400' }).message).toMatch(
      /^KV_FAILURE_TIMEOUT \(400 ms\) must be greater than --heartbeat-interval \(500 ms\)/,
    );
    expect(failure([], { KV_PORT: '70000' }).option).toBe('KV_PORT');
  });

  it('answers --help with every flag, its environment variable and its default', () => {
    const commandLine = parseConfig(['--help'], {});
    if (commandLine.action !== 'print') throw new Error('expected help');
    const help = commandLine.text.replace(/\s+/g, ' ');
    for (const [flag, value] of [
      ['host', '127.0.0.1'],
      ['port', '5000'],
      ['data-dir', 'none'],
      ['heartbeat-interval', '1000'],
      ['failure-timeout', '5000'],
      ['replication-factor', '3'],
      ['vnodes-per-weight', String(DEFAULT_VNODES_PER_WEIGHT)],
      ['idle-timeout', '60000'],
      ['request-timeout', '30000'],
      ['max-connections', '10000'],
      ['tls-cert', 'none'],
      ['tls-handshake-timeout', '10000'],
      ['log-level', 'info'],
      ['log-format', 'pretty'],
    ] as const) {
      expect(help).toMatch(
        new RegExp(`--${flag} .*?\\(env ${envVarOf(flag)}\\) \\[default: ${value}\\]`),
      );
    }
    expect(help).toContain(
      '--tls-client-certs mutual TLS: every connection must present a certificate signed by --tls-ca (env KV_TLS_CLIENT_CERTS) [boolean] [default: false]',
    );
    expect(parseConfig(['-h'], {})).toEqual(commandLine);
  });

  it('answers --version with the package version', () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as {
      version: string;
    };
    expect(parseConfig(['--version'], {})).toEqual({ action: 'print', text: pkg.version });
  });
});

describe('resolveConfig', () => {
  it('fills in defaults and validates, naming options as in code', () => {
    expect(resolveConfig({ port: 0, dataDir: '/tmp/x' })).toEqual({
      ...DEFAULT_CONFIG,
      port: 0,
      dataDir: '/tmp/x',
    });
    expect(() => resolveConfig({ port: 70000 })).toThrow(
      new ConfigError('port must be an integer from 0 to 65535, got 70000'),
    );
    expect(() => resolveConfig({ failureTimeoutMs: 100, heartbeatIntervalMs: 100 })).toThrow(
      /^failureTimeoutMs \(100 ms\) must be greater than heartbeatIntervalMs \(100 ms\)/,
    );
    expect(() => resolveConfig({ idleTimeoutMs: Number.NaN })).toThrow(ConfigError);
  });
});
