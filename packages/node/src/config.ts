import { loadAccessSettings } from '@kv/protocol';
import yargs from 'yargs';
import { parseByteSize } from './byte-size';
import type { FsyncMode } from './engine';
import type { LogFormat, LogLevel } from './logger';
import { FLAGS, type Flag, type FlagName } from './node-flags';
import type { EngineName, NodeOptions } from './node-options';

/** The result of reading the command line: options to start with, or text to print and an exit code. */
export type ParsedConfig =
  { kind: 'start'; options: NodeOptions } | { kind: 'exit'; code: number; output: string };

/** A variable's text as the flag's type; booleans are `true`/`1`/`yes` or `false`/`0`/`no`. */
function fromEnvironment(spec: Flag, text: string): unknown {
  if (spec.type === 'number') return Number(text);
  if (spec.type !== 'boolean') return text;
  const word = text.trim().toLowerCase();
  if (['true', '1', 'yes'].includes(word)) return true;
  if (['false', '0', 'no', ''].includes(word)) return false;
  return text;
}

/** `--max-key-bytes` → `KV_MAX_KEY_BYTES`. */
export function envVarOf(flag: string): string {
  return `KV_${flag.toUpperCase().replace(/-/g, '_')}`;
}

function check(flag: FlagName, value: unknown): string | undefined {
  const spec: Flag = FLAGS[flag];
  if (value === undefined) return undefined;
  if (spec.size && parseByteSize(String(value)) === undefined)
    return `--${flag} must be a size in bytes such as 1073741824, 64mb or 1gb, got ${String(value)}`;
  if (spec.type === 'number') {
    const n = Number(value);
    if (
      spec.min !== undefined &&
      (!Number.isInteger(n) || n < spec.min || n > (spec.max ?? Infinity))
    ) {
      const bounds = spec.max === undefined ? `≥ ${spec.min}` : `from ${spec.min} to ${spec.max}`;
      return `--${flag} must be an integer ${bounds}, got ${String(value)}`;
    }
    if (!Number.isFinite(n) || (spec.min === undefined && (n <= 0 || n > (spec.max ?? Infinity))))
      return `--${flag} must be a number > 0${spec.max === undefined ? '' : ` and ≤ ${spec.max}`}, got ${String(value)}`;
  }
  if (spec.type === 'boolean' && typeof value !== 'boolean')
    return `${envVarOf(flag)} must be true or false, got ${String(value)}`;
  if (spec.choices && !spec.choices.includes(String(value)))
    return `--${flag} must be one of ${spec.choices.join(', ')}, got ${String(value)}`;
  return undefined;
}

/**
 * Reads `kv-node` flags, then `KV_*` environment variables, then defaults (in that order
 * of precedence). Never exits the process: `--help` and usage errors come back as
 * `{ kind: 'exit' }` with exit code 0 or 2.
 */
export async function parseNodeConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  scriptName = 'kv-node',
): Promise<ParsedConfig> {
  const values: Partial<Record<FlagName, unknown>> = {};
  for (const flag of Object.keys(FLAGS) as FlagName[]) {
    const spec: Flag = FLAGS[flag];
    const fromEnv = env[envVarOf(flag)];
    values[flag] = fromEnv !== undefined ? fromEnvironment(spec, fromEnv) : spec.default;
  }
  let failure: string | undefined;
  let output = '';
  const parser = yargs([...argv])
    .scriptName(scriptName)
    .usage(
      '$0 [options]\n\nStarts a kv storage node. Every flag can also be set by its environment variable, KV_<FLAG> (e.g. KV_PORT=5002); flags win.',
    )
    .options(
      Object.fromEntries(
        (Object.keys(FLAGS) as FlagName[]).map((flag) => {
          const spec: Flag = FLAGS[flag];
          return [
            flag,
            {
              type: spec.type,
              describe: `${spec.describe} [env ${envVarOf(flag)}]`,
              default: spec.default,
            },
          ];
        }),
      ),
    )
    .strict()
    .help()
    .version(false)
    .exitProcess(false)
    .fail((msg, err) => {
      failure = msg || err?.message;
    });
  const parsed = await parser.parseAsync([...argv], {}, (_err, _args, out) => {
    output = out;
  });
  if (failure)
    return {
      kind: 'exit',
      code: 2,
      output: `${scriptName}: ${failure}\nRun ${scriptName} --help for usage.`,
    };
  if (output) return { kind: 'exit', code: 0, output };
  // A flag given on the command line wins over the environment.
  for (const flag of Object.keys(FLAGS) as FlagName[]) {
    if (argv.some((a) => a === `--${flag}` || a.startsWith(`--${flag}=`)))
      values[flag] = parsed[flag];
  }
  const str = (flag: FlagName): string | undefined =>
    values[flag] === undefined ? undefined : String(values[flag]);
  for (const flag of Object.keys(FLAGS) as FlagName[]) {
    const problem = check(flag, values[flag]);
    if (problem) return { kind: 'exit', code: 2, output: `${scriptName}: ${problem}` };
  }
  let access;
  try {
    access = loadAccessSettings({
      clusterSecretFile: str('cluster-secret-file'),
      clusterSecret: env['KV_CLUSTER_SECRET'],
      usersFile: str('users-file'),
      password: env['KV_PASSWORD'],
    });
  } catch (err) {
    return { kind: 'exit', code: 2, output: `${scriptName}: ${(err as Error).message}` };
  }
  const num = (flag: FlagName): number => Number(values[flag]);
  return {
    kind: 'start',
    options: {
      port: num('port'),
      host: str('host'),
      advertise: str('advertise'),
      coordinator: str('coordinator'),
      zone: str('zone'),
      weight: num('weight'),
      replicationFactor:
        values['replication-factor'] === undefined ? undefined : num('replication-factor'),
      writeQuorum: num('write-quorum'),
      readQuorum: num('read-quorum'),
      heartbeatIntervalMs: num('heartbeat-interval'),
      replicaTimeoutMs: num('replica-timeout'),
      maxKeyBytes: num('max-key-bytes'),
      maxValueBytes: num('max-value-bytes'),
      tombstoneGraceMs: num('tombstone-grace'),
      idleTimeoutMs: num('idle-timeout'),
      requestTimeoutMs: num('request-timeout'),
      maxConnections: num('max-connections'),
      maxInFlight: values['max-in-flight'] === undefined ? undefined : num('max-in-flight'),
      maxReplicaQueue: num('max-replica-queue'),
      shutdownGraceMs: num('shutdown-grace'),
      streamRate: num('stream-rate'),
      antiEntropyIntervalMs: num('anti-entropy-interval'),
      maxHints: num('max-hints'),
      maxHintBytes: num('max-hint-bytes'),
      leaveTimeoutMs: num('leave-timeout'),
      maxClockOffsetMs: num('max-clock-offset'),
      writeDeadlineMs: num('write-deadline'),
      clusterSecret: access.clusterSecret,
      users: access.users,
      insecure: values.insecure === true,
      maxMemory: parseByteSize(String(values['max-memory'])) as number,
      tlsCert: str('tls-cert'),
      tlsKey: str('tls-key'),
      tlsCa: str('tls-ca'),
      tlsClientCerts: values['tls-client-certs'] === true,
      tlsHandshakeTimeoutMs: num('tls-handshake-timeout'),
      metricsPort: values['metrics-port'] === undefined ? undefined : num('metrics-port'),
      dataDir: str('data-dir'),
      engine: str('engine') as EngineName | undefined,
      fsync: str('fsync') as FsyncMode,
      fsyncIntervalMs: num('fsync-interval'),
      logLevel: str('log-level') as LogLevel,
      logFormat: str('log-format') as LogFormat,
    },
  };
}
