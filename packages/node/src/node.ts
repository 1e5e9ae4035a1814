import { ConnectionPool, createRespServer, type RespServer } from '@kv/protocol';
import type { Ring } from '@kv/ring';
import type { Logger } from 'winston';
import { dispatch, type CommandContext } from './commands';
import { CoordinatorLink } from './coordinator-link';
import type { StorageEngine } from './engine';
import { InvalidNodeOptionError } from './errors';
import { HybridLogicalClock } from './hlc';
import { renderInfo, type InfoSection } from './info';
import { createNodeLogger, type LogFormat, type LogLevel } from './logger';
import { MemoryEngine } from './memory-engine';
import { RequestCoordinator } from './request-coordinator';
import { Store } from './store';

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
  /** The ring this node routes with, once it has one. */
  readonly ring: Ring | undefined;
  /** Local data (for inspection). */
  readonly store: Store;
  /** Stops accepting, finishes in-flight requests, leaves the ring if `leave` (default true). */
  close(options?: { leave?: boolean }): Promise<void>;
}

function parseAddress(address: string, what: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  const port = Number(address.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InvalidNodeOptionError(`${what} must be host:port, got '${address}'`);
  }
  return { host: address.slice(0, colon), port };
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
  const coordinatorAddress = parseAddress(options.coordinator ?? '127.0.0.1:5000', 'coordinator');
  const maxKeyBytes = options.maxKeyBytes ?? 4096;
  const maxValueBytes = options.maxValueBytes ?? 8 * 1024 * 1024;
  const startedAt = Date.now();

  const clock = new HybridLogicalClock();
  const store = new Store(options.engine ?? new MemoryEngine(), clock);
  const peers = new ConnectionPool({
    requestTimeoutMs: options.replicaTimeoutMs ?? 1000,
    connectTimeoutMs: options.replicaTimeoutMs ?? 1000,
  });
  let ring: Ring | undefined;
  let epoch = -1;
  let ringJson: { epoch: number; json: string } | undefined;
  const opsByCommand = new Map<string, number>();
  let commandsProcessed = 0;

  let logger = options.logger;
  const count = (name: string): void => {
    commandsProcessed++;
    opsByCommand.set(name, (opsByCommand.get(name) ?? 0) + 1);
  };
  const server: RespServer = createRespServer({
    handler: (args, connection) => dispatch(args, ctx, connection, count),
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
    ? parseAddress(options.advertise, 'advertise')
    : { host: bound.address, port: bound.port };
  const id = `${advertised.host}:${advertised.port}`;
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
    ring: () => ring,
    replicationFactor: options.replicationFactor,
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
    ring: () => {
      if (ring === undefined) return undefined;
      if (ringJson?.epoch !== epoch) ringJson = { epoch, json: JSON.stringify(ring.toJSON()) };
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
    onRing: (next, nextEpoch) => {
      ring = next;
      epoch = nextEpoch;
      log.info(`Ring epoch ${nextEpoch}: ${next.size} node(s)`);
    },
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
          ring_epoch: epoch,
          ring_members: ring?.size ?? 0,
          replication_factor: options.replicationFactor ?? ring?.replicationFactor ?? 0,
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
      { name: 'Keyspace', fields: { db0: `keys=${store.engine.size}` } },
    ];
  };

  const purgeTimer = setInterval(() => {
    const purged = store.purge(options.tombstoneGraceMs ?? 86_400_000);
    if (purged > 0) log.debug(`Purged ${purged} tombstone(s) and expired record(s)`);
  }, options.purgeIntervalMs ?? 60_000);
  purgeTimer.unref();

  log.info(`Started on ${bound.address}:${bound.port}`);
  await link.start();

  let closing: Promise<void> | undefined;
  return {
    id,
    host: bound.address,
    port: bound.port,
    get ring() {
      return ring;
    },
    store,
    close({ leave = true } = {}) {
      closing ??= (async () => {
        clearInterval(purgeTimer);
        await server.close();
        await link.stop(leave);
        peers.close();
        await store.engine.close();
        log.info('Stopped');
      })();
      return closing;
    },
  };
}
