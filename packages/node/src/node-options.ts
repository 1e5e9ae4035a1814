import { parseAddress } from '@kv/protocol';
import type { Logger } from 'winston';
import { FSYNC_MODES, type FsyncMode, type StorageEngine } from './engine';
import { InvalidNodeOptionError } from './errors';
import type { LogFormat, LogLevel } from './logger';

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
  maxConnections: 10_000,
  streamRate: 32 * 1024 * 1024,
  antiEntropyIntervalMs: 30_000,
  maxHints: 100_000,
  maxHintBytes: 64 * 1024 * 1024,
  leaveTimeoutMs: 300_000,
  maxClockOffsetMs: 500,
  writeDeadlineMs: 1000,
  fsync: 'always' as FsyncMode,
  logLevel: 'info' as LogLevel,
  logFormat: 'pretty' as LogFormat,
  silent: false,
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
   * The coordinator, `host:port`.
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
   * How long to wait for a replica's answer.
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
   * Most client connections.
   * @default 10000
   */
  maxConnections?: number;
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
   * once it is on disk (concurrent writes share one sync), `'periodic'` once committed with
   * the flush following in the background, `'never'` once committed, flushing left to the
   * operating system.
   * @default 'always'
   */
  fsync?: FsyncMode;
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

/** A `host:port` split. */
export interface Address {
  readonly host: string;
  readonly port: number;
}

/** {@link NodeOptions} with every default applied and every value checked. */
export type ResolvedNodeOptions = Required<
  Omit<
    NodeOptions,
    | 'advertise'
    | 'coordinator'
    | 'zone'
    | 'replicationFactor'
    | 'engine'
    | 'dataDir'
    | 'logger'
    | 'wallClock'
  >
> &
  Pick<NodeOptions, 'zone' | 'replicationFactor' | 'dataDir' | 'logger' | 'wallClock'> & {
    /** The engine instance given, or which engine to open. */
    readonly engine: StorageEngine | EngineName;
    /** Parsed `advertise`, when given (else the bound address). */
    readonly advertise: Address | undefined;
    /** Parsed `coordinator`. */
    readonly coordinator: Address;
  };

function addressOption(address: string, what: string): Address {
  const parsed = parseAddress(address);
  if (!parsed) throw new InvalidNodeOptionError(`${what} must be host:port, got '${address}'`);
  return parsed;
}

function checkQuorum(value: number, name: string, rf: number | undefined): void {
  if (!Number.isInteger(value) || value < 1 || (rf !== undefined && value > rf)) {
    throw new InvalidNodeOptionError(
      `${name} must be an integer between 1 and the replication factor${rf ? ` (${rf})` : ''}, got ${value}`,
    );
  }
}

/**
 * Applies {@link NODE_DEFAULTS} to `options` and checks them.
 * @throws InvalidNodeOptionError for a quorum out of range or a malformed address
 */
export function resolveNodeOptions(options: NodeOptions): ResolvedNodeOptions {
  const defined = Object.fromEntries(
    Object.entries(options).filter(([, value]) => value !== undefined),
  ) as NodeOptions;
  const resolved = {
    ...NODE_DEFAULTS,
    ...defined,
    advertise:
      options.advertise === undefined ? undefined : addressOption(options.advertise, 'advertise'),
    coordinator: addressOption(options.coordinator ?? NODE_DEFAULTS.coordinator, 'coordinator'),
  };
  const engine = options.engine ?? (options.dataDir === undefined ? 'memory' : 'lmdb');
  if (typeof engine === 'string' && !(ENGINE_NAMES as readonly string[]).includes(engine))
    throw new InvalidNodeOptionError(
      `engine must be one of ${ENGINE_NAMES.join(', ')}, got ${String(engine)}`,
    );
  if (engine === 'lmdb' && options.dataDir === undefined)
    throw new InvalidNodeOptionError('the lmdb engine needs a data directory (--data-dir DIR)');
  if (engine === 'memory' && options.dataDir !== undefined)
    throw new InvalidNodeOptionError(
      'the memory engine keeps nothing on disk: drop --data-dir, or use --engine lmdb',
    );
  if (!(FSYNC_MODES as readonly string[]).includes(resolved.fsync))
    throw new InvalidNodeOptionError(
      `fsync must be one of ${FSYNC_MODES.join(', ')}, got ${String(resolved.fsync)}`,
    );
  checkQuorum(resolved.writeQuorum, 'write quorum', options.replicationFactor);
  checkQuorum(resolved.readQuorum, 'read quorum', options.replicationFactor);
  for (const [name, value] of [
    ['max clock offset', resolved.maxClockOffsetMs],
    ['write deadline', resolved.writeDeadlineMs],
  ] as const) {
    if (!Number.isFinite(value) || value <= 0)
      throw new InvalidNodeOptionError(`${name} must be a positive number of ms, got ${value}`);
  }
  return { ...resolved, engine };
}
