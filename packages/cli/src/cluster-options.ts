import { join, resolve } from 'node:path';
import { UsageError } from './errors';

/** The address every process of a local cluster listens on. */
export const CLUSTER_HOST = '127.0.0.1';

/** Most nodes `kv cluster` starts. */
export const MAX_CLUSTER_NODES = 64;

/**
 * The coordinator's dashboard and `/metrics` listen on `basePort + 80` (5080 by default),
 * node i's `/metrics` on `basePort + 80 + i`: beside the RESP ports and easy to remember.
 */
export const HTTP_PORT_OFFSET = 80;

/** Options of {@link LocalCluster.start}. */
export interface LocalClusterOptions {
  /**
   * Storage nodes to start, 1 to {@link MAX_CLUSTER_NODES}.
   * @default 3
   */
  readonly nodes?: number;
  /**
   * The coordinator's port; node i (from 1) listens on `basePort + i`.
   * @default 5000
   */
  readonly basePort?: number;
  /**
   * Directory for durable state: the coordinator keeps its membership in
   * `<dataDir>/coordinator`, node i its records in `<dataDir>/node-<port>`. Without it,
   * nothing outlives the cluster.
   */
  readonly dataDir?: string | undefined;
  /**
   * The cluster secret file every process is started with (`--cluster-secret-file`),
   * created with a random secret (mode 0600) if missing. Without it, the processes get
   * the secret in `KV_CLUSTER_SECRET` from `env`, if there is one, else none.
   */
  readonly clusterSecretFile?: string | undefined;
  /**
   * Every process speaks TLS only, with a development CA and certificates made for the
   * cluster (openssl signs them) in `<dataDir>/tls` (kept and reused), or without a data
   * directory in a temporary folder removed when the cluster stops.
   * @default false
   */
  readonly tls?: boolean;
  /** Where the processes' output lines and the cluster's own lines go. */
  readonly stdout: NodeJS.WritableStream;
  /** Where the processes' error output goes. */
  readonly stderr: NodeJS.WritableStream;
  /**
   * The `kv` script the processes run (`kv coordinator ...`, `kv node ...`).
   * @default this package's dist/bin.js
   */
  readonly binPath?: string;
  /** Environment of the processes. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /**
   * How long to wait for every node to join the ring and serve reads.
   * @default 30000
   */
  readonly readyTimeoutMs?: number;
  /**
   * How long a process may take to stop after SIGTERM before it gets SIGKILL.
   * @default 5000
   */
  readonly stopTimeoutMs?: number;
  /**
   * Once the cluster is ready, restart a process that dies (exits other than with code 0,
   * or is killed) after {@link RESTART_DELAY_MS}, with the same port and data directory;
   * after {@link MAX_RESTARTS_PER_MINUTE} restarts within a minute, one that dies again is left down.
   * Without it, a dead process stays down until {@link LocalCluster.restartDead}.
   * @default false
   */
  readonly restartDead?: boolean;
  /**
   * What to tell the user when a process dies and is not restarted automatically, e.g.
   * `kill -USR2 4242`: appended to the report line as "restart it with ...".
   */
  readonly restartHint?: string;
  /**
   * Aborting it while starting stops what was started and rejects with
   * {@link StartInterruptedError}.
   */
  readonly signal?: AbortSignal;
}

/** How long `restartDead` waits after a death before restarting the process. */
export const RESTART_DELAY_MS = 1000;

/** Automatic restarts of one process within a minute, after which `restartDead` gives up on it. */
export const MAX_RESTARTS_PER_MINUTE = 3;

/** {@link LocalClusterOptions} with every default filled in. */
export type ResolvedClusterOptions = Required<
  Omit<LocalClusterOptions, 'dataDir' | 'signal' | 'clusterSecretFile' | 'restartHint'>
> & {
  dataDir: string | undefined;
  clusterSecretFile: string | undefined;
  restartHint: string | undefined;
};

/**
 * Checks the node count and base port and fills in the defaults.
 *
 * @throws {@link UsageError} for a node count or base port out of range
 */
export function resolveClusterOptions(options: LocalClusterOptions): ResolvedClusterOptions {
  const nodes = options.nodes ?? 3;
  const basePort = options.basePort ?? 5000;
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > MAX_CLUSTER_NODES) {
    throw new UsageError(`--nodes must be an integer from 1 to ${MAX_CLUSTER_NODES}, got ${nodes}`);
  }
  if (!Number.isInteger(basePort) || basePort < 1 || basePort + HTTP_PORT_OFFSET + nodes > 65535) {
    throw new UsageError(
      `--base-port must be an integer from 1 to ${65535 - HTTP_PORT_OFFSET - nodes} for ${nodes} ` +
        `node(s), got ${basePort}`,
    );
  }
  return {
    nodes,
    basePort,
    dataDir: options.dataDir === undefined ? undefined : resolve(options.dataDir),
    clusterSecretFile:
      options.clusterSecretFile === undefined ? undefined : resolve(options.clusterSecretFile),
    tls: options.tls ?? false,
    stdout: options.stdout,
    stderr: options.stderr,
    binPath: options.binPath ?? join(__dirname, 'bin.js'),
    env: options.env ?? process.env,
    readyTimeoutMs: options.readyTimeoutMs ?? 30_000,
    stopTimeoutMs: options.stopTimeoutMs ?? 5000,
    restartDead: options.restartDead ?? false,
    restartHint: options.restartHint,
  };
}
