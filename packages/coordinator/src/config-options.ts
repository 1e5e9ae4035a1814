import { TLS_DEFAULTS } from '@kv/protocol';
import { DEFAULT_REPLICATION_FACTOR, DEFAULT_VNODES_PER_WEIGHT, MAX_VNODES } from '@kv/ring';
import {
  MAX_DELAY_MS,
  address,
  directory,
  file,
  flag,
  integer,
  oneOf,
  optional,
  text,
  type OptionSpec,
} from './config-values';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from './logger';
import { parseStoreLocation, type StoreLocation } from './store-url';

/** Every setting of a coordinator that the command line can set. */
export interface CoordinatorConfig {
  /**
   * Address to listen on.
   * @default '127.0.0.1'
   */
  readonly host: string;
  /**
   * TCP port to listen on; 0 picks a free port.
   * @default 5000
   */
  readonly port: number;
  /**
   * Directory of the state file `membership.json`, created if missing. Without one,
   * membership is not persisted and nodes re-register after a restart.
   * @default undefined
   */
  readonly dataDir: string | undefined;
  /**
   * Where membership and the ring live: `file` (the state file under `dataDir`, or memory
   * without one: a single coordinator), or `etcd://host:port[,host:port...][/prefix]`:
   * several coordinators share the state in etcd and elect a leader there.
   * @default { kind: 'file' }
   */
  readonly store: StoreLocation;
  /**
   * With an etcd store, seconds the leader's etcd lease lives without renewal: a leader
   * that dies or loses etcd is replaced within about this long.
   * @default 5
   */
  readonly leaseTtlSeconds: number;
  /**
   * With an etcd store, the `host:port` other coordinators reach this one at, to forward
   * membership changes to the leader.
   * @default `host:port` (the bound port)
   */
  readonly advertise: string | undefined;
  /**
   * How often nodes heartbeat, in milliseconds. Not sent anywhere: it sets how often the
   * coordinator checks for silent members and is reported by INFO.
   * @default 1000
   */
  readonly heartbeatIntervalMs: number;
  /**
   * A member silent this many milliseconds is marked dead and removed from the ring.
   * Must be greater than `heartbeatIntervalMs`.
   * @default 5000
   */
  readonly failureTimeoutMs: number;
  /**
   * Replicas per key: the length of `GET_NODES_FOR_KEY` replies. Part of the ring, so a
   * persisted ring keeps its own.
   * @default 3
   */
  readonly replicationFactor: number;
  /**
   * Virtual nodes per unit of weight on the ring. Part of the ring, so a persisted ring
   * keeps its own.
   * @default 2048 (the @kv/ring default)
   */
  readonly vnodesPerWeight: number;
  /**
   * A connection with no traffic for this many milliseconds is closed; 0 disables.
   * @default 60000
   */
  readonly idleTimeoutMs: number;
  /**
   * A request must arrive whole within this many milliseconds of its first byte (and its
   * reply be read); a connection that trickles or stalls longer gets `-TIMEOUT` and is
   * closed. 0 disables.
   * @default 30000
   */
  readonly requestTimeoutMs: number;
  /**
   * Connections beyond this many get `-ERR max number of clients reached` and are closed.
   * @default 10000
   */
  readonly maxConnections: number;
  /**
   * File holding the cluster secret. With it, `admin` commands (register, heartbeat,
   * leave) are refused to connections that have not answered the member challenge.
   * `KV_CLUSTER_SECRET` may hold the secret itself instead.
   * @default undefined
   */
  readonly clusterSecretFile: string | undefined;
  /**
   * File of the users clients `AUTH` as (see the node's `--users-file`). `KV_PASSWORD`
   * sets the password of the user `default`.
   * @default undefined
   */
  readonly usersFile: string | undefined;
  /**
   * Allows a non-loopback `host` without a cluster secret (protected mode off).
   * @default false
   */
  readonly insecure: boolean;
  /**
   * PEM file of the coordinator's certificate chain. With it (and `tlsKey`) the listener
   * speaks TLS only.
   * @default undefined (plain TCP)
   */
  readonly tlsCert: string | undefined;
  /**
   * PEM file of the private key of `tlsCert`.
   * @default undefined
   */
  readonly tlsKey: string | undefined;
  /**
   * PEM file of the CA that signs the certificates peers must present with `tlsClientCerts`.
   * @default undefined
   */
  readonly tlsCa: string | undefined;
  /**
   * Mutual TLS: every connection (nodes, clients, the kv CLI) must present a certificate
   * signed by `tlsCa`.
   * @default false
   */
  readonly tlsClientCerts: boolean;
  /**
   * A peer that has not finished its TLS handshake this many milliseconds after connecting
   * is cut off.
   * @default 10000
   */
  readonly tlsHandshakeTimeoutMs: number;
  /**
   * Port of the HTTP listener serving Prometheus `/metrics` and the dashboard (`/`), on
   * `host`; 0 picks a free one.
   * @default undefined (not served)
   */
  readonly metricsPort: number | undefined;
  /**
   * Least severe level logged.
   * @default 'info'
   */
  readonly logLevel: LogLevel;
  /**
   * `pretty` (`[Coordinator] Started on 127.0.0.1:5000`) or `json` (one object per line).
   * @default 'pretty'
   */
  readonly logFormat: LogFormat;
}

/** The options, in the order `--help` lists them. */
export const OPTIONS: {
  readonly [K in keyof CoordinatorConfig]-?: OptionSpec<CoordinatorConfig[K]>;
} = {
  host: {
    flag: 'host',
    describe: 'address to listen on',
    default: '127.0.0.1',
    parse: text('an address'),
  },
  port: {
    flag: 'port',
    describe: 'TCP port to listen on; 0 picks a free one',
    default: 5000,
    parse: integer(0, 65535),
  },
  dataDir: {
    flag: 'data-dir',
    describe: 'directory for membership.json; without it membership is not persisted',
    default: undefined,
    parse: (value, name) => (value === undefined ? undefined : directory(value, name)),
  },
  store: {
    flag: 'store',
    describe:
      'where membership lives: file (--data-dir, or memory), or etcd://host:port[,host:port...][/prefix] for several coordinators electing a leader',
    default: { kind: 'file' },
    defaultText: 'file',
    parse: (value, name) =>
      typeof value === 'object' && value !== null
        ? (value as StoreLocation)
        : parseStoreLocation(value, name),
  },
  leaseTtlSeconds: {
    flag: 'lease-ttl',
    describe:
      "seconds the leader's etcd lease lives unrenewed (how fast a dead leader is replaced)",
    default: 5,
    parse: integer(2, 3600),
  },
  advertise: {
    flag: 'advertise',
    describe: 'host:port other coordinators reach this one at (etcd store) [default: host:port]',
    default: undefined,
    parse: optional(address),
  },
  heartbeatIntervalMs: {
    flag: 'heartbeat-interval',
    describe: 'how often nodes heartbeat, in ms (paces the failure checks)',
    default: 1000,
    parse: integer(1, MAX_DELAY_MS),
  },
  failureTimeoutMs: {
    flag: 'failure-timeout',
    describe: 'a node silent this long (ms) is marked dead; must exceed --heartbeat-interval',
    default: 5000,
    parse: integer(1, MAX_DELAY_MS),
  },
  replicationFactor: {
    flag: 'replication-factor',
    describe: 'replicas per key (length of GET_NODES_FOR_KEY replies)',
    default: DEFAULT_REPLICATION_FACTOR,
    parse: integer(1, 1_000_000),
  },
  vnodesPerWeight: {
    flag: 'vnodes-per-weight',
    describe: 'virtual nodes per unit of weight on the ring',
    default: DEFAULT_VNODES_PER_WEIGHT,
    parse: integer(1, MAX_VNODES),
  },
  idleTimeoutMs: {
    flag: 'idle-timeout',
    describe: 'close connections without traffic for this long (ms); 0 disables',
    default: 60_000,
    parse: integer(0, MAX_DELAY_MS),
  },
  requestTimeoutMs: {
    flag: 'request-timeout',
    describe:
      'close a connection whose request has not arrived whole (or whose replies are unread) after this long (ms); 0 disables',
    default: 30_000,
    parse: integer(0, MAX_DELAY_MS),
  },
  maxConnections: {
    flag: 'max-connections',
    describe: 'refuse connections beyond this many',
    default: 10_000,
    parse: integer(1, 1_000_000),
  },
  clusterSecretFile: {
    flag: 'cluster-secret-file',
    describe:
      'file holding the cluster secret members authenticate with (KV_CLUSTER_SECRET may hold the secret itself)',
    default: undefined,
    parse: optional(file),
  },
  usersFile: {
    flag: 'users-file',
    describe:
      "users clients AUTH as, one 'name read-only|read-write|admin >password' per line (KV_PASSWORD: the default user's password)",
    default: undefined,
    parse: optional(file),
  },
  insecure: {
    flag: 'insecure',
    boolean: true,
    describe: 'allow a non-loopback --host without a cluster secret (protected mode off)',
    default: false,
    parse: flag,
  },
  tlsCert: {
    flag: 'tls-cert',
    describe:
      "PEM file of the coordinator's certificate; with --tls-key the listener speaks TLS only",
    default: undefined,
    parse: optional(file),
  },
  tlsKey: {
    flag: 'tls-key',
    describe: 'PEM file of the private key of --tls-cert',
    default: undefined,
    parse: optional(file),
  },
  tlsCa: {
    flag: 'tls-ca',
    describe: 'PEM file of the CA that signs the certificates peers present (--tls-client-certs)',
    default: undefined,
    parse: optional(file),
  },
  tlsClientCerts: {
    flag: 'tls-client-certs',
    boolean: true,
    describe: 'mutual TLS: every connection must present a certificate signed by --tls-ca',
    default: false,
    parse: flag,
  },
  tlsHandshakeTimeoutMs: {
    flag: 'tls-handshake-timeout',
    describe: 'ms a peer may take to finish its TLS handshake',
    default: TLS_DEFAULTS.handshakeTimeoutMs,
    parse: integer(1, MAX_DELAY_MS),
  },
  metricsPort: {
    flag: 'metrics-port',
    describe:
      'HTTP port for /metrics and the dashboard, on --host; 0 picks a free one (default: off)',
    default: undefined,
    parse: (value, name) => (value === undefined ? undefined : integer(0, 65535)(value, name)),
  },
  logLevel: {
    flag: 'log-level',
    describe: 'least severe level logged',
    default: 'info',
    parse: oneOf(LOG_LEVELS),
  },
  logFormat: {
    flag: 'log-format',
    describe: 'pretty (human lines) or json (one object per line)',
    default: 'pretty',
    parse: oneOf(LOG_FORMATS),
  },
};

/** A setting's name. */
export type Key = keyof CoordinatorConfig;
/** Every setting, in {@link OPTIONS} order. */
export const KEYS = Object.keys(OPTIONS) as Key[];

/** The defaults of every {@link CoordinatorConfig} setting. */
export const DEFAULT_CONFIG: Readonly<CoordinatorConfig> = Object.freeze(
  Object.fromEntries(
    KEYS.map((key) => [key, OPTIONS[key].default]),
  ) as unknown as CoordinatorConfig,
);
