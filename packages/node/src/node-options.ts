import { TLS_DEFAULTS, type UserTable } from '@kv/protocol';
import type { Logger } from 'winston';
import type { FsyncMode, StorageEngine } from './engine';
import { DEFAULT_FSYNC_INTERVAL_MS } from './lmdb-engine';
import type { LogFormat, LogLevel } from './logger';

/**
 * The default of `maxInFlight` on a node that acknowledges a write once it is synced to
 * disk (LMDB, `fsync: 'always'`): most of its requests wait for a sync and hold no CPU, and
 * a sync covers every write that waits for it, so more of them in flight means more
 * throughput (one node under redis-benchmark -c 50 -P 16, 800 in flight: 31k SET/s at 128
 * against 110k unbounded on the machine of docs/benchmarks.md).
 */
export const DURABLE_MAX_IN_FLIGHT = 1024;

/**
 * Every default of a storage node, in one place: {@link resolveNodeOptions}, the `kv-node`
 * flags and `KV_*` variables (config.ts) and INFO all read them from here.
 */
export const NODE_DEFAULTS = {
  port: 5001,
  host: '127.0.0.1',
  coordinator: '127.0.0.1:5000',
  weight: 1,
  writeQuorum: 2,
  readQuorum: 1,
  heartbeatIntervalMs: 1000,
  replicaTimeoutMs: 1000,
  /** Sync replies can be large; they travel on connections of their own. */
  syncTimeoutMs: 60_000,
  maxKeyBytes: 4096,
  maxValueBytes: 8 * 1024 * 1024,
  tombstoneGraceMs: 86_400_000,
  purgeIntervalMs: 60_000,
  idleTimeoutMs: 300_000,
  /** Long enough for an 8 MiB value over a slow link; short enough that a trickle frees its slot. */
  requestTimeoutMs: 30_000,
  maxConnections: 10_000,
  /**
   * Enough client requests in flight for a node to reach its peak: the overload suite of
   * docs/benchmarks.md finds 3 nodes at their peak with 128 to 512 requests in flight in
   * all, so 40 to 170 per node. Few enough that the work queued ahead of a replica request
   * stays far under the replica timeout even on a loaded machine; with 4,096 in flight, 64
   * and 128 kept 0.9× the throughput of 256 in flight where 256 kept 0.7×.
   */
  maxInFlight: 128,
  /**
   * Several times what `maxInFlight` client requests put on one replica's connection, so
   * only a replica that falls far behind (with writes it is sent after the quorum answered)
   * reaches it; each request past it fails at once and becomes a hint, instead of waiting
   * out the replica timeout.
   */
  maxReplicaQueue: 2048,
  /** How long in-flight requests get to finish once a stopping node closes its listener. */
  shutdownGraceMs: 5_000,
  streamRate: 32 * 1024 * 1024,
  antiEntropyIntervalMs: 30_000,
  maxHints: 100_000,
  maxHintBytes: 64 * 1024 * 1024,
  leaveTimeoutMs: 300_000,
  maxClockOffsetMs: 500,
  writeDeadlineMs: 1000,
  /** No bound: as Redis, the operator knows what else the machine runs (a warning says so). */
  maxMemory: 0,
  /** Mutual TLS is off: peers need no certificate (members authenticate with the cluster secret). */
  tlsClientCerts: false,
  tlsHandshakeTimeoutMs: TLS_DEFAULTS.handshakeTimeoutMs,
  fsync: 'always' as FsyncMode,
  /** As Redis's `appendfsync everysec`: at most a second of acknowledged writes at risk. */
  fsyncIntervalMs: DEFAULT_FSYNC_INTERVAL_MS,
  logLevel: 'info' as LogLevel,
  logFormat: 'pretty' as LogFormat,
  silent: false,
  insecure: false,
} as const;

/** Options of {@link startNode}. */
export interface NodeOptions {
  /** Port to listen on; 0 picks a free one. */
  port: number;
  /**
   * Interface to listen on.
   * @default '127.0.0.1'
   */
  host?: string;
  /**
   * Address other nodes and clients reach this node at; it is also the node's id.
   * @default `${host}:${port}` (the bound port)
   */
  advertise?: string;
  /**
   * The coordinator, `host:port`, or several separated by commas (`a:5000,b:5000,c:5000`,
   * coordinators sharing etcd): the node registers and heartbeats through whichever answers.
   * @default '127.0.0.1:5000'
   */
  coordinator?: string;
  /**
   * Failure domain, for placing replicas in distinct zones.
   * @default none
   */
  zone?: string;
  /**
   * Relative capacity in the ring.
   * @default 1
   */
  weight?: number;
  /**
   * Replicas per key for requests this node coordinates.
   * @default the coordinator's ring setting
   */
  replicationFactor?: number;
  /**
   * Acknowledgements a write waits for (1..replication factor).
   * @default 2
   */
  writeQuorum?: number;
  /**
   * Replicas a read consults (1..replication factor); with more than 1 the newest wins and
   * stale replicas are repaired.
   * @default 1
   */
  readQuorum?: number;
  /**
   * Milliseconds between heartbeats to the coordinator.
   * @default 1000
   */
  heartbeatIntervalMs?: number;
  /**
   * How long to wait for a replica's answer. Also how long, at most ten heartbeats, a
   * joining node waits after finding every member at its epoch for the writes placed by an
   * older ring to be decided, before it serves reads (see Rebalancer).
   * @default 1000
   */
  replicaTimeoutMs?: number;
  /**
   * Largest key accepted, in bytes.
   * @default 4096
   */
  maxKeyBytes?: number;
  /**
   * Largest value accepted, in bytes.
   * @default 8388608
   */
  maxValueBytes?: number;
  /**
   * How long tombstones and expired records are kept before being purged, so a delayed
   * older write cannot bring a deleted key back.
   * @default 86400000
   */
  tombstoneGraceMs?: number;
  /**
   * Milliseconds between purges of tombstones and expired records.
   * @default 60000
   */
  purgeIntervalMs?: number;
  /**
   * Connections with no traffic for this long are closed; 0 disables.
   * @default 300000
   */
  idleTimeoutMs?: number;
  /**
   * A request must arrive whole within this many ms of its first byte (and replies must be
   * read); a connection that trickles or stalls longer is answered `-TIMEOUT` and closed.
   * 0 disables.
   * @default 30000
   */
  requestTimeoutMs?: number;
  /**
   * Most client connections; more are refused at once.
   * @default 10000
   */
  maxConnections?: number;
  /**
   * Most client requests this node serves at once (dispatched, reply not ready), over all
   * connections. At the bound it stops reading from client connections until requests
   * finish, so TCP backpressure reaches the clients instead of queues growing inside the
   * node; members' connections (replication, sync) are never held. 0: no bound.
   * @default 128, or {@link DURABLE_MAX_IN_FLIGHT} with the LMDB engine and `fsync: 'always'`
   */
  maxInFlight?: number;
  /**
   * Most requests (replica writes, reads, hint deliveries) waiting on this node's
   * connection to another member. Past it a replica request fails at once (the write is
   * kept as a hint for that replica) instead of queueing past the replica timeout.
   * @default 2048
   */
  maxReplicaQueue?: number;
  /**
   * When the node stops (after a leave's hand-off): how long its clients' in-flight
   * requests get before their connections are cut, whatever the clients do.
   * @default 5000
   */
  shutdownGraceMs?: number;
  /**
   * Bytes per second that data movement (joins, leaves, re-replication, anti-entropy)
   * may use, in each direction; 0 for unlimited.
   * @default 33554432 (32 MiB/s)
   */
  streamRate?: number;
  /**
   * How often replicas compare digests and repair differences; 0 turns it off.
   * @default 30000
   */
  antiEntropyIntervalMs?: number;
  /**
   * Most writes kept for unreachable replicas (hinted handoff).
   * @default 100000
   */
  maxHints?: number;
  /**
   * Most bytes of keys and values kept in hints.
   * @default 67108864 (64 MiB)
   */
  maxHintBytes?: number;
  /**
   * On a graceful leave, how long to keep handing data to the next owners before
   * unregistering anyway.
   * @default 300000
   */
  leaveTimeoutMs?: number;
  /**
   * Largest tolerated difference between this node's clock and the cluster's. Past it the
   * node is fenced (it stamps no write and acknowledges no replica write), and versions
   * further ahead of its clock are refused wherever they come from.
   * @default 500
   */
  maxClockOffsetMs?: number;
  /**
   * Longest a write may wait between arriving and being stamped (a paused process, a
   * blocked loop); past it the write is refused with `-TIMEOUT`. Clients that retry
   * elsewhere after a timeout should wait at least this plus twice `maxClockOffsetMs`.
   * @default 1000
   */
  writeDeadlineMs?: number;
  /**
   * The cluster secret. With it, `peer` and `admin` commands are refused (`-NOAUTH`) to
   * connections that have not answered the member challenge, and this node answers it on
   * every connection it opens (to the coordinator and to other nodes).
   * @default none: members are not authenticated, and the node binds loopback only
   */
  clusterSecret?: Buffer;
  /**
   * The users clients authenticate as with `AUTH`; with any, client commands need it.
   * Needs a cluster secret.
   * @default none: clients are not authenticated
   */
  users?: UserTable;
  /**
   * Allows listening on a non-loopback address without a cluster secret (protected mode
   * off): anyone who reaches the port may then replicate, sync or decommission.
   * @default false
   */
  insecure?: boolean;
  /**
   * Most bytes of data this node holds (its own accounting: keys, packed records, 64 bytes
   * per record, hints). Past it, writes carrying a value are answered `-OOM` and replica
   * writes refused (so they do not count towards W); reads and deletes go on. 0 for none
   * (a warning is logged at start).
   * @default 0
   */
  maxMemory?: number;
  /**
   * PEM file of this node's certificate chain. With it (and `tlsKey`) the node speaks TLS
   * only: to clients, to other nodes and to the coordinator, on every connection, both ways.
   * @default none (plain TCP)
   */
  tlsCert?: string;
  /**
   * PEM file of the private key of `tlsCert`.
   * @default none
   */
  tlsKey?: string;
  /**
   * PEM file of the CA(s) that sign the cluster's certificates: the node verifies the other
   * nodes and the coordinator against it (and, with `tlsClientCerts`, its peers).
   * @default the CAs Node.js trusts
   */
  tlsCa?: string;
  /**
   * Mutual TLS: every connection to this node (other nodes, clients, redis-cli) must
   * present a certificate signed by `tlsCa`; the node presents `tlsCert` when it dials.
   * @default false
   */
  tlsClientCerts?: boolean;
  /**
   * A peer that has not finished its TLS handshake this many ms after connecting is cut off.
   * @default 10000
   */
  tlsHandshakeTimeoutMs?: number;
  /**
   * Port of the HTTP listener serving Prometheus `/metrics`, on the same interface as the
   * node (`host`); 0 picks a free one.
   * @default undefined (metrics are not served)
   */
  metricsPort?: number;
  /**
   * The wall clock, milliseconds since the epoch (tests and simulations skew it).
   * @default Date.now
   */
  wallClock?: () => number;
  /**
   * Where records live: `'memory'` (lost when the process stops), `'lmdb'` (durable, in
   * `dataDir`), or an engine instance (tests).
   * @default 'lmdb' with a `dataDir`, else 'memory'
   */
  engine?: StorageEngine | EngineName;
  /**
   * Directory of the node's durable state (the LMDB engine's files and a lock file that
   * keeps a second process out). Selects the LMDB engine unless `engine` says otherwise.
   */
  dataDir?: string;
  /**
   * When the LMDB engine acknowledges a write (and a replica its REPLICATE): `'always'`
   * once it is on disk (concurrent writes share one sync), `'periodic'` once committed, with
   * a sync every `fsyncIntervalMs`, `'never'` once committed, flushing left to the
   * operating system.
   * @default 'always'
   */
  fsync?: FsyncMode;
  /**
   * Under `fsync: 'periodic'`, milliseconds between syncs: a write is acknowledged once
   * committed and is on disk at most this long later.
   * @default 1000
   */
  fsyncIntervalMs?: number;
  /**
   * A logger to use instead of creating one.
   * @default a winston logger per the log options
   */
  logger?: Logger;
  /** @default 'info' */
  logLevel?: LogLevel;
  /** @default 'pretty' */
  logFormat?: LogFormat;
  /**
   * No log output (tests).
   * @default false
   */
  silent?: boolean;
}

/** The storage engines a node can open by name. */
export const ENGINE_NAMES = ['memory', 'lmdb'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];
