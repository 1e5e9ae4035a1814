import { ConnectionPool, createRespServer, parseAddress, type RespServer } from '@kv/protocol';
import { Phase, RingEpoch as Placement, type Ring } from '@kv/ring';
import type { Logger } from 'winston';
import type { CommandContext } from './command-context';
import { CoordinatorLink } from './coordinator-link';
import type { StorageEngine } from './engine';
import { InvalidNodeOptionError } from './errors';
import { HybridLogicalClock } from './hlc';
import { renderInfo, type InfoSection } from './info';
import { HintStore } from './hints';
import { createNodeLogger, type LogFormat, type LogLevel } from './logger';
import { MemoryEngine } from './memory-engine';
import { createNodeRouter } from './node-commands';
import { Rebalancer } from './rebalancer';
import { RequestCoordinator } from './request-coordinator';
import { ScanCursors } from './scan';
import { Store } from './store';
import { CoOwnedDigests } from './sync-source';
import { Syncer, type TransferStats } from './syncer';
import { Throttle } from './throttle';

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
  /** Failure domain, for placing replicas in distinct zones. */
  zone?: string;
  /**
   * Relative capacity in the ring.
   * @default 1
   */
  weight?: number;
  /** Replicas per key for requests this node coordinates. @default the coordinator's ring setting */
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
  /** @default 1000 */
  heartbeatIntervalMs?: number;
  /**
   * How long to wait for a replica's answer.
   * @default 1000
   */
  replicaTimeoutMs?: number;
  /** @default 4096 */
  maxKeyBytes?: number;
  /** @default 8388608 */
  maxValueBytes?: number;
  /**
   * How long tombstones and expired records are kept before being purged, so a delayed
   * older write cannot bring a deleted key back.
   * @default 86400000
   */
  tombstoneGraceMs?: number;
  /** @default 60000 */
  purgeIntervalMs?: number;
  /** Connections with no traffic for this long are closed; 0 disables. @default 300000 */
  idleTimeoutMs?: number;
  /** @default 10000 */
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
  /** @default 67108864 (64 MiB) */
  maxHintBytes?: number;
  /**
   * On a graceful leave, how long to keep handing data to the next owners before
   * unregistering anyway.
   * @default 300000
   */
  leaveTimeoutMs?: number;
  /** Where records live. @default a new MemoryEngine */
  engine?: StorageEngine;
  /** A logger to use instead of creating one. */
  logger?: Logger;
  /** @default 'info' */
  logLevel?: LogLevel;
  /** @default 'pretty' */
  logFormat?: LogFormat;
  /** No log output (tests). @default false */
  silent?: boolean;
}

/** A running storage node, from {@link startNode}. */
export interface KvNode {
  /** This node's id, its advertised `host:port`. */
  readonly id: string;
  readonly host: string;
  /** The bound port. */
  readonly port: number;
  /** The ring this node routes reads with, once it has one. */
  readonly ring: Ring | undefined;
  /** The current placement (read and target rings), once it has one. */
  readonly placement: Placement | undefined;
  /** Local data (for inspection). */
  readonly store: Store;
  /** Settles when the node has stopped, however the stop began (close(), DECOMMISSION). */
  readonly closed: Promise<void>;
  /** Stops accepting, finishes in-flight requests, leaves the ring if `leave` (default true). */
  close(options?: { leave?: boolean }): Promise<void>;
}

function addressOption(address: string, what: string): { host: string; port: number } {
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

/** Starts a storage node: listens, registers with the coordinator and heartbeats. */
export async function startNode(options: NodeOptions): Promise<KvNode> {
  const host = options.host ?? '127.0.0.1';
  const writeQuorum = options.writeQuorum ?? 2;
  const readQuorum = options.readQuorum ?? 1;
  checkQuorum(writeQuorum, 'write quorum', options.replicationFactor);
  checkQuorum(readQuorum, 'read quorum', options.replicationFactor);
  const coordinatorAddress = addressOption(options.coordinator ?? '127.0.0.1:5000', 'coordinator');
  const maxKeyBytes = options.maxKeyBytes ?? 4096;
  const maxValueBytes = options.maxValueBytes ?? 8 * 1024 * 1024;
  const startedAt = Date.now();

  const clock = new HybridLogicalClock();
  const store = new Store(options.engine ?? new MemoryEngine(), clock);
  const peers = new ConnectionPool({
    requestTimeoutMs: options.replicaTimeoutMs ?? 1000,
    connectTimeoutMs: options.replicaTimeoutMs ?? 1000,
  });
  // Sync traffic has its own connections: a bulk reply must never delay a replica's ack.
  const syncPeers = new ConnectionPool({
    requestTimeoutMs: 60_000,
    connectTimeoutMs: options.replicaTimeoutMs ?? 1000,
  });
  const hints = new HintStore({ maxHints: options.maxHints, maxBytes: options.maxHintBytes });
  const transfers: TransferStats = {
    keysReceived: 0,
    bytesReceived: 0,
    keysSent: 0,
    bytesSent: 0,
    keysDropped: 0,
  };
  const scans = new ScanCursors(store.engine);
  let placement: Placement | undefined;
  let ringJson: { epoch: number; json: string; target?: string } | undefined;
  const opsByCommand = new Map<string, number>();
  let commandsProcessed = 0;

  let logger = options.logger;
  const count = ({ name }: { name: string }): void => {
    commandsProcessed++;
    opsByCommand.set(name, (opsByCommand.get(name) ?? 0) + 1);
  };
  const router = createNodeRouter([count]);
  const server: RespServer = createRespServer({
    handler: (args, connection) => router.dispatch(args, ctx, connection),
    limits: { maxBulkLength: Math.max(maxValueBytes, maxKeyBytes) },
    idleTimeoutMs: options.idleTimeoutMs ?? 300_000,
    maxConnections: options.maxConnections ?? 10_000,
    onError: (err) =>
      logger?.error(
        `Internal error serving a command: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
      ),
  });
  const bound = await server.listen(options.port, host);
  const advertised = options.advertise
    ? addressOption(options.advertise, 'advertise')
    : { host: bound.address, port: bound.port };
  const id = `${advertised.host}:${advertised.port}`;
  const digests = new CoOwnedDigests(store, id);
  logger ??= createNodeLogger({
    label: `Node ${advertised.port}`,
    level: options.logLevel,
    format: options.logFormat,
    silent: options.silent,
  });
  const log = logger;

  const coordinator = new RequestCoordinator({
    selfId: id,
    store,
    peers,
    clock,
    placement: () => placement,
    hints,
    writeQuorum,
    readQuorum,
  });

  // Built once the bound port (and so the node id) is known; no request can arrive
  // before this synchronous continuation of listen() has run.
  const ctx: CommandContext = {
    store,
    coordinator,
    maxKeyBytes,
    now: Date.now,
    info: (sections) => renderInfo(infoSections(), sections),
    selfId: id,
    placement: () => placement,
    digests,
    scans,
    decommission: () => {
      if (closing) return false;
      void self.close({ leave: true });
      return true;
    },
    ring: () => {
      if (placement === undefined) return undefined;
      if (ringJson?.epoch !== placement.epoch) {
        ringJson = {
          epoch: placement.epoch,
          json: JSON.stringify(placement.read.toJSON()),
          ...(!placement.settled && { target: JSON.stringify(placement.target.toJSON()) }),
        };
      }
      return ringJson;
    },
    config: () => ({
      save: '',
      appendonly: 'no',
      databases: '1',
      'proto-max-bulk-len': String(maxValueBytes),
      'kv-max-key-bytes': String(maxKeyBytes),
      'kv-write-quorum': String(writeQuorum),
      'kv-read-quorum': String(readQuorum),
    }),
  };
  const link = new CoordinatorLink({
    coordinatorHost: coordinatorAddress.host,
    coordinatorPort: coordinatorAddress.port,
    host: advertised.host,
    port: advertised.port,
    zone: options.zone,
    weight: options.weight,
    heartbeatIntervalMs: options.heartbeatIntervalMs,
    logger: log,
    onRing: (read, target, epoch) => {
      const previous = placement;
      placement = new Placement(
        epoch,
        read,
        target,
        options.replicationFactor ?? read.replicationFactor,
      );
      const phase = placement.phaseOf(id);
      log.info(
        `Ring epoch ${epoch}: ${read.size} node(s)${placement.settled ? '' : `, ${target.size} in the target ring`}${phase === Phase.SERVING ? '' : `; this node is ${phase}`}`,
      );
      if (previous?.phaseOf(id) === Phase.JOINING && phase === Phase.SERVING)
        log.info('Joined: serving reads');
      rebalancer.onPlacement(placement);
    },
  });
  const rebalancer = new Rebalancer({
    selfId: id,
    digests,
    syncer: new Syncer({
      selfId: id,
      store,
      pool: syncPeers,
      throttle: new Throttle(options.streamRate ?? 32 * 1024 * 1024),
      stats: transfers,
    }),
    hints,
    replicationPool: peers,
    placement: () => placement,
    ready: () => link.ready(),
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? 1000,
    antiEntropyIntervalMs: options.antiEntropyIntervalMs ?? 30_000,
    logger: log,
  });

  const infoSections = (): InfoSection[] => {
    const mem = process.memoryUsage();
    const stats = coordinator.stats;
    return [
      {
        name: 'Server',
        fields: {
          kv_role: 'node',
          node_id: id,
          process_id: process.pid,
          tcp_port: bound.port,
          uptime_in_seconds: Math.floor((Date.now() - startedAt) / 1000),
          node_version: process.version,
        },
      },
      {
        name: 'Clients',
        fields: {
          connected_clients: server.connectionCount,
          maxclients: options.maxConnections ?? 10_000,
        },
      },
      {
        name: 'Memory',
        fields: {
          used_memory: mem.heapUsed + mem.external,
          used_memory_rss: mem.rss,
          data_bytes: store.engine.bytes,
        },
      },
      {
        name: 'Stats',
        fields: {
          total_commands_processed: commandsProcessed,
          ...Object.fromEntries(
            [...opsByCommand].map(([name, calls]) => [
              `cmdstat_${name.toLowerCase()}`,
              `calls=${calls}`,
            ]),
          ),
        },
      },
      {
        name: 'Replication',
        fields: {
          ring_epoch: placement?.epoch ?? -1,
          ring_members: placement?.read.size ?? 0,
          replication_factor: placement?.replicationFactor ?? 0,
          write_quorum: writeQuorum,
          read_quorum: readQuorum,
          coordinator: `${coordinatorAddress.host}:${coordinatorAddress.port}`,
          coordinator_connected: link.connected ? 1 : 0,
          coordinated_writes: stats.writes,
          coordinated_reads: stats.reads,
          writes_unavailable: stats.writesUnavailable,
          reads_unavailable: stats.readsUnavailable,
          replica_failures: stats.replicaFailures,
          read_repairs: stats.readRepairs,
          version_retries: stats.versionRetries,
        },
      },
      {
        name: 'Rebalance',
        fields: {
          phase: rebalancer.phase,
          sync_peers_pending: rebalancer.stats.peersPending,
          handoff_pending: rebalancer.stats.handoffPending,
          keys_received: transfers.keysReceived,
          bytes_received: transfers.bytesReceived,
          keys_sent: transfers.keysSent,
          bytes_sent: transfers.bytesSent,
          keys_dropped: transfers.keysDropped,
          hints_pending: hints.stats.pending,
          hints_pending_bytes: hints.stats.pendingBytes,
          hints_delivered: hints.stats.delivered,
          hints_dropped: hints.stats.dropped,
          sync_rounds: rebalancer.stats.rounds,
          last_sync_round_at: Math.floor(rebalancer.stats.lastRoundAt / 1000),
          last_sync_round_repairs: rebalancer.stats.lastRoundRepairs,
          stream_rate: options.streamRate ?? 32 * 1024 * 1024,
        },
      },
      {
        name: 'Keyspace',
        fields: { db0: `keys=${store.engine.size - store.engine.tombstones}` },
      },
    ];
  };

  const purgeTimer = setInterval(() => {
    const purged = store.purge(options.tombstoneGraceMs ?? 86_400_000);
    if (purged > 0) log.debug(`Purged ${purged} tombstone(s) and expired record(s)`);
  }, options.purgeIntervalMs ?? 60_000);
  purgeTimer.unref();

  log.info(`Started on ${bound.address}:${bound.port}`);
  await link.start();

  /** A graceful leave: out of the target ring, data handed to the next owners, then out. */
  const handOffBeforeLeaving = async (): Promise<void> => {
    if (placement?.phaseOf(id) !== Phase.SERVING || placement.read.size <= 1) return;
    try {
      await link.leaving();
    } catch (err) {
      log.warn(
        `Could not announce the leave to the coordinator (${(err as Error).message}): leaving without handing off; the other replicas keep the data`,
      );
      return;
    }
    log.info('Leaving: handing data to the next owners');
    const leaveTimeoutMs = options.leaveTimeoutMs ?? 300_000;
    if (await rebalancer.leave(leaveTimeoutMs)) log.info('Hand-off complete');
    else
      log.warn(
        `Hand-off incomplete after ${leaveTimeoutMs} ms (${rebalancer.stats.handoffPending} record(s) unconfirmed); leaving anyway`,
      );
  };

  let closing: Promise<void> | undefined;
  let markClosed: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => (markClosed = resolve));
  const self: KvNode = {
    closed,
    id,
    host: bound.address,
    port: bound.port,
    get ring() {
      return placement?.read;
    },
    get placement() {
      return placement;
    },
    store,
    close({ leave = true } = {}) {
      closing ??= (async () => {
        clearInterval(purgeTimer);
        if (leave) await handOffBeforeLeaving();
        rebalancer.close();
        await server.close();
        await link.stop(leave);
        peers.close();
        syncPeers.close();
        await store.engine.close();
        log.info('Stopped');
      })().finally(markClosed);
      return closing;
    },
  };
  return self;
}
