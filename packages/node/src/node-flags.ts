import { MAX_WEIGHT } from '@kv/ring';
import { FSYNC_MODES } from './engine';
import { LOG_LEVELS } from './logger';
import { DURABLE_MAX_IN_FLIGHT, ENGINE_NAMES, NODE_DEFAULTS } from './node-options';

/** How a kv-node flag is read: its type, default, bounds and help text. */
export interface Flag {
  type: 'number' | 'string' | 'boolean';
  default?: number | string | boolean;
  describe: string;
  /** Smallest value accepted for integer flags. */
  min?: number;
  /** Largest value accepted. */
  max?: number;
  choices?: readonly string[];
  /** A size in bytes, with an optional unit (`64mb`, `1gb`). */
  size?: true;
}

/** Every kv-node flag. Integer flags have a `min`. */
export const FLAGS = {
  port: {
    type: 'number',
    default: NODE_DEFAULTS.port,
    min: 0,
    max: 65535,
    describe: 'port to listen on (0: any free port)',
  },
  host: { type: 'string', default: NODE_DEFAULTS.host, describe: 'interface to listen on' },
  advertise: {
    type: 'string',
    describe: 'host:port other nodes and clients reach this node at (its id) [default: host:port]',
  },
  coordinator: {
    type: 'string',
    default: NODE_DEFAULTS.coordinator,
    describe:
      'coordinator address, host:port, or several comma-separated (coordinators sharing etcd)',
  },
  zone: { type: 'string', describe: 'failure domain; replicas go to distinct zones first' },
  weight: {
    type: 'number',
    default: NODE_DEFAULTS.weight,
    max: MAX_WEIGHT,
    describe: `relative capacity in the ring (> 0, ≤ ${MAX_WEIGHT})`,
  },
  'replication-factor': {
    type: 'number',
    min: 1,
    describe: "replicas per key for requests this node coordinates [default: the coordinator's]",
  },
  'write-quorum': {
    type: 'number',
    default: NODE_DEFAULTS.writeQuorum,
    min: 1,
    describe: 'acknowledgements a write waits for',
  },
  'read-quorum': {
    type: 'number',
    default: NODE_DEFAULTS.readQuorum,
    min: 1,
    describe: 'replicas a read consults; above 1 the newest wins and stale replicas are repaired',
  },
  'heartbeat-interval': {
    type: 'number',
    default: NODE_DEFAULTS.heartbeatIntervalMs,
    min: 1,
    describe: 'ms between heartbeats to the coordinator',
  },
  'replica-timeout': {
    type: 'number',
    default: NODE_DEFAULTS.replicaTimeoutMs,
    min: 1,
    describe:
      'ms to wait for a replica; also how long a joining node waits, at most ten heartbeats, for writes placed by an older ring before it serves reads',
  },
  'max-key-bytes': {
    type: 'number',
    default: NODE_DEFAULTS.maxKeyBytes,
    min: 1,
    describe: 'largest key accepted',
  },
  'max-value-bytes': {
    type: 'number',
    default: NODE_DEFAULTS.maxValueBytes,
    min: 1,
    describe: 'largest value accepted',
  },
  'tombstone-grace': {
    type: 'number',
    default: NODE_DEFAULTS.tombstoneGraceMs,
    min: 0,
    describe: 'ms to keep tombstones and expired records before purging them',
  },
  'idle-timeout': {
    type: 'number',
    default: NODE_DEFAULTS.idleTimeoutMs,
    min: 0,
    describe: 'ms before an idle connection is closed (0: never)',
  },
  'request-timeout': {
    type: 'number',
    default: NODE_DEFAULTS.requestTimeoutMs,
    min: 0,
    describe:
      'ms a request may take to arrive whole (and its reply to be read) before the connection is closed (0: never)',
  },
  'shutdown-grace': {
    type: 'number',
    default: NODE_DEFAULTS.shutdownGraceMs,
    min: 0,
    describe: 'ms in-flight requests get when the node stops before their connections are cut',
  },
  'max-connections': {
    type: 'number',
    default: NODE_DEFAULTS.maxConnections,
    min: 1,
    describe: 'most client connections',
  },
  'max-in-flight': {
    type: 'number',
    min: 0,
    describe: `most client requests served at once; past it client connections are not read until some finish (0: no bound) [default: ${NODE_DEFAULTS.maxInFlight}; ${DURABLE_MAX_IN_FLIGHT} with --data-dir and --fsync always]`,
  },
  'max-replica-queue': {
    type: 'number',
    default: NODE_DEFAULTS.maxReplicaQueue,
    min: 1,
    describe:
      'most requests waiting on the connection to another member; past it a replica request fails at once and becomes a hint',
  },
  'stream-rate': {
    type: 'number',
    default: NODE_DEFAULTS.streamRate,
    min: 0,
    describe:
      'bytes/s data movement (join, leave, re-replication, anti-entropy) may use (0: unlimited)',
  },
  'anti-entropy-interval': {
    type: 'number',
    default: NODE_DEFAULTS.antiEntropyIntervalMs,
    min: 0,
    describe: 'ms between digest comparisons with the other replicas (0: off)',
  },
  'max-hints': {
    type: 'number',
    default: NODE_DEFAULTS.maxHints,
    min: 0,
    describe: 'most writes kept for unreachable replicas (hinted handoff)',
  },
  'max-hint-bytes': {
    type: 'number',
    default: NODE_DEFAULTS.maxHintBytes,
    min: 0,
    describe: 'most bytes kept in hints',
  },
  'leave-timeout': {
    type: 'number',
    default: NODE_DEFAULTS.leaveTimeoutMs,
    min: 0,
    describe: 'ms a leaving node spends handing off its data before it leaves anyway',
  },
  'max-clock-offset': {
    type: 'number',
    default: NODE_DEFAULTS.maxClockOffsetMs,
    min: 1,
    describe: 'ms this clock may differ from the cluster before the node stops stamping writes',
  },
  'write-deadline': {
    type: 'number',
    default: NODE_DEFAULTS.writeDeadlineMs,
    min: 1,
    describe: 'ms a write may wait between arriving and being stamped before it is refused',
  },
  'cluster-secret-file': {
    type: 'string',
    describe:
      'file holding the cluster secret that members authenticate with (KV_CLUSTER_SECRET may hold the secret itself)',
  },
  'users-file': {
    type: 'string',
    describe:
      "users clients AUTH as, one 'name read-only|read-write|admin >password' per line (KV_PASSWORD sets the default user's password)",
  },
  insecure: {
    type: 'boolean',
    default: NODE_DEFAULTS.insecure,
    describe: 'allow a non-loopback --host without a cluster secret (protected mode off)',
  },
  'max-memory': {
    type: 'string',
    default: String(NODE_DEFAULTS.maxMemory),
    size: true,
    describe:
      "bytes of data held past which writes get -OOM (e.g. 64mb, 1gb; 0: no bound, as Redis's maxmemory 0)",
  },
  'tls-cert': {
    type: 'string',
    describe:
      "PEM file of this node's certificate: TLS on every connection, both ways [default: none, plain TCP]",
  },
  'tls-key': { type: 'string', describe: 'PEM file of the private key of --tls-cert' },
  'tls-ca': {
    type: 'string',
    describe:
      "PEM file of the CA that signs the cluster's certificates; other members are verified against it [default: Node.js's trusted CAs]",
  },
  'tls-client-certs': {
    type: 'boolean',
    default: NODE_DEFAULTS.tlsClientCerts,
    describe: 'mutual TLS: every connection must present a certificate signed by --tls-ca',
  },
  'tls-handshake-timeout': {
    type: 'number',
    default: NODE_DEFAULTS.tlsHandshakeTimeoutMs,
    min: 1,
    describe: 'ms a peer may take to finish its TLS handshake',
  },
  'metrics-port': {
    type: 'number',
    min: 0,
    max: 65535,
    describe:
      'port of the HTTP listener serving Prometheus /metrics, on --host (0: any free port) [default: off]',
  },
  'data-dir': {
    type: 'string',
    describe:
      'directory of durable data, one node per directory (selects the lmdb engine) [default: none, data in memory]',
  },
  engine: {
    type: 'string',
    choices: ENGINE_NAMES,
    describe: 'storage engine [default: lmdb with --data-dir, else memory]',
  },
  fsync: {
    type: 'string',
    default: NODE_DEFAULTS.fsync,
    choices: FSYNC_MODES,
    describe:
      'when a write is acknowledged: always = once on disk (group-committed), periodic = once committed, synced every --fsync-interval ms, never = flushing left to the OS',
  },
  'fsync-interval': {
    type: 'number',
    default: NODE_DEFAULTS.fsyncIntervalMs,
    describe:
      'with --fsync periodic: milliseconds between syncs, the most acknowledged writes a power loss can take',
  },
  'log-level': {
    type: 'string',
    default: NODE_DEFAULTS.logLevel,
    choices: LOG_LEVELS,
    describe: 'least severe level logged',
  },
  'log-format': {
    type: 'string',
    default: NODE_DEFAULTS.logFormat,
    choices: ['pretty', 'json'],
    describe: 'log line format',
  },
} satisfies Record<string, Flag>;

export type FlagName = keyof typeof FLAGS;
