import {
  AccessControl,
  ConnectionPool,
  connectTcp,
  connectTls,
  createHttpEndpoint,
  createRespServer,
  handshakeFor,
  describeServerTls,
  handshakeFailureLevel,
  listenTcp,
  listenTls,
  type ConnectFactory,
  type HttpEndpoint,
  type Reply,
  type RespServer,
  type ServerConnection,
} from '@kv/protocol';
import { type Ring, Phase, RingEpoch, token } from '@kv/ring';
import type { Logger } from 'winston';
import { admitsMemberRequests, prioritizeMembers } from './admission';
import { MAX_KEYS_PER_COMMAND } from './command-args';
import type { CommandContext } from './command-context';
import { inSequence } from './command-sequence';
import { NODE_COMMANDS, createNodeRouter } from './node-commands';
import { ClockFence } from './clock-fence';
import { unavailable } from './errors';
import { CommandTimer } from './command-timer';
import { CoordinatorLink } from './coordinator-link';
import { HintStore } from './hints';
import { renderInfo } from './info';
import { createNodeLogger } from './logger';
import { MemberConnections } from './member-connections';
import { MemoryLimit } from './memory-limit';
import { NodeMetrics } from './metrics';
import { nodeInfoSections } from './node-info';
import {
  NODE_DEFAULTS,
  resolveNodeOptions,
  type Address,
  type NodeOptions,
  type ResolvedNodeOptions,
} from './node-options';
import { Rebalancer } from './rebalancer';
import { PeerClient } from './peer-client';
import { QuorumOperations } from './quorum-operations';
import { Replicas } from './replica';
import { ScanCursors } from './scan';
import { openStorage, type NodeStorage } from './storage';
import { Store } from './store';
import { CoOwnedDigests } from './sync-source';
import { Syncer } from './syncer';
import { Throttle } from './throttle';
import { UnsyncedRanges } from './unsynced-ranges';

export type { NodeOptions };

/**
 * Most arguments a request to a node may have: room for the largest command (a multi-key
 * command at its key limit, plus options) several times over. A longer request is dropped
 * as its header is read, before its arguments are held anywhere, and answered `-TOOLARGE`.
 */
const MAX_ARGUMENTS = 4 * MAX_KEYS_PER_COMMAND;

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
  readonly placement: RingEpoch | undefined;
  /** Local data (for inspection). */
  readonly store: Store;
  /** This node's metrics, in a registry of its own. */
  readonly metrics: NodeMetrics;
  /** The port `/metrics` is served on; undefined when metrics are not served. */
  readonly metricsPort: number | undefined;
  /** Settles when the node has stopped, however the stop began (close(), DECOMMISSION). */
  readonly closed: Promise<void>;
  /** Stops accepting, finishes in-flight requests, leaves the ring if `leave` (default true). */
  close(options?: { leave?: boolean }): Promise<void>;
}

/** What {@link StorageNode.start} has ready before the node is built. */
interface Parts {
  readonly options: ResolvedNodeOptions;
  readonly server: RespServer;
  readonly bound: Address;
  readonly metricsEndpoint: HttpEndpoint | undefined;
  readonly storage: NodeStorage;
}

/**
 * A storage node: serves commands, keeps its data in a {@link Store}, coordinates client
 * requests over the key's replicas, follows the ring the coordinator publishes and moves
 * data when it changes. Built by {@link StorageNode.start}; every part is created in the
 * constructor, started by `run` and stopped by `shutdown`, each in one explicit order.
 */
export class StorageNode implements KvNode {
  readonly id: string;
  readonly host: string;
  readonly port: number;
  readonly store: Store;
  readonly closed: Promise<void>;
  private readonly options: ResolvedNodeOptions;
  private readonly storage: NodeStorage;
  private readonly server: RespServer;
  private readonly metricsEndpoint: HttpEndpoint | undefined;
  private readonly logger: Logger;
  private readonly startedAt = Date.now();
  private readonly peers: ConnectionPool;
  private readonly syncPeers: ConnectionPool;
  private readonly hints: HintStore;
  private readonly memory: MemoryLimit;
  /** This node's metrics registry (several nodes may share a process). */
  readonly metrics = new NodeMetrics(
    Object.entries(NODE_COMMANDS).flatMap(([name, spec]) => [name, ...(spec.aliases ?? [])]),
  );
  private readonly requests: QuorumOperations;
  private readonly rebalancer: Rebalancer;
  private readonly link: CoordinatorLink;
  private readonly fence: ClockFence;
  private readonly context: CommandContext;
  private readonly access: AccessControl;
  private current: RingEpoch | undefined;
  private ringJson: { epoch: number; json: string; target?: string } | undefined;
  private purgeTimer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;
  private markClosed: () => void = () => undefined;

  private constructor({ options, server, bound, metricsEndpoint, storage }: Parts) {
    this.options = options;
    this.storage = storage;
    this.server = server;
    this.metricsEndpoint = metricsEndpoint;
    this.host = bound.host;
    this.port = bound.port;
    const advertised = options.advertise ?? bound;
    this.id = `${advertised.host}:${advertised.port}`;
    this.closed = new Promise<void>((resolve) => (this.markClosed = resolve));
    this.logger =
      options.logger ??
      createNodeLogger({
        label: `Node ${advertised.port}`,
        level: options.logLevel,
        format: options.logFormat,
        silent: options.silent,
      });
    this.access = new AccessControl({
      clusterSecret: options.clusterSecret,
      users: options.users,
      onFailure: (kind, connection) => {
        this.metrics.counters.authFailures.inc();
        this.logger.warn(
          `Refused ${kind === 'member' ? 'a member proof' : 'a password'} from ${connection.remoteAddress}`,
        );
      },
    });
    // Every connection this node opens answers the member challenge first, when there is a
    // secret; one dialler for every member this node reaches: other nodes and the coordinator.
    const handshake = handshakeFor({ clusterSecret: options.clusterSecret });
    const connect: ConnectFactory = options.tls ? connectTls(options.tls) : connectTcp;
    this.peers = new ConnectionPool({
      requestTimeoutMs: options.replicaTimeoutMs,
      connectTimeoutMs: options.replicaTimeoutMs,
      maxPending: options.maxReplicaQueue,
      handshake,
      connect,
      // A member this node cannot reach may not reach it either: the writes it coordinates
      // may be missing here until a sync round after it is back has completed.
      onFailure: (address) => {
        if (this.current && this.current.phaseOf(address) !== Phase.OUTSIDE)
          this.fence.gate.markStale();
      },
    });
    // The clock of whichever coordinator the link talks to, recorded under one name.
    const coordinator = options.coordinators.map((c) => `${c.host}:${c.port}`).join(',');
    this.fence = new ClockFence({
      maxOffsetMs: options.maxClockOffsetMs,
      writeDeadlineMs: options.writeDeadlineMs,
      intervalMs: options.heartbeatIntervalMs,
      coordinator,
      peers: () => this.current?.members().filter((id) => id !== this.id) ?? [],
      // The coordinator over the link's own connection, peers over the replication pool.
      send: (target, args) =>
        target === coordinator ? this.link.request(args) : this.peers.send(target, args),
      metrics: this.metrics,
      logger: this.logger,
      wallClock: options.wallClock,
      staleAfterStallMs: options.replicaTimeoutMs,
      // A copy that may have missed writes is synced as soon as possible.
      onStale: () => void this.rebalancer.run(),
    });
    const { clock } = this.fence;
    const usedMemory = (): number => this.store.bytes + this.hints.heldBytes;
    const refusedForMemory = (): void => this.metrics.counters.writesRefusedOom.inc();
    this.memory = new MemoryLimit(options.maxMemory, usedMemory, refusedForMemory);
    this.metrics.gauges.usedMemory.follow(() => this.memory.usedBytes);
    this.metrics.gauges.maxMemory.set(options.maxMemory);
    this.store = new Store(
      storage.engine,
      clock,
      options.wallClock,
      () => this.metrics.counters.versionsRefused.inc(),
      // The same bound; a record the store refuses is a write this copy lacks, so its reads
      // ask another replica too until a sync round completes (once it has room again).
      new MemoryLimit(options.maxMemory, usedMemory, () => {
        refusedForMemory();
        this.fence.gate.markStale();
      }),
    );
    // Sync traffic has its own connections: a bulk reply must never delay a replica's ack.
    this.syncPeers = new ConnectionPool({
      requestTimeoutMs: NODE_DEFAULTS.syncTimeoutMs,
      connectTimeoutMs: options.replicaTimeoutMs,
      handshake,
      connect,
    });
    this.hints = new HintStore({
      maxHints: options.maxHints,
      maxBytes: options.maxHintBytes,
      metrics: this.metrics,
      journal: storage.engine.hintJournal?.(),
    });
    const digests = new CoOwnedDigests(this.store, this.id);
    const replicationPeers = new PeerClient(this.peers, this.metrics);
    const unsynced = new UnsyncedRanges(this.id, storage.engine.syncProgressJournal?.());
    this.requests = new QuorumOperations({
      selfId: this.id,
      replicas: new Replicas(this.id, this.store, replicationPeers, clock),
      clock,
      placement: () => this.current,
      hints: this.hints,
      writeQuorum: options.writeQuorum,
      readQuorum: options.readQuorum,
      metrics: this.metrics,
      gate: this.fence.gate,
      unsynced,
      // The memory engine keeps each key's token: a key it holds is not hashed again.
      tokenOf: (key) => this.store.tokenOf(key),
    });
    this.rebalancer = new Rebalancer({
      selfId: this.id,
      digests,
      syncer: new Syncer({
        selfId: this.id,
        store: this.store,
        peers: new PeerClient(this.syncPeers),
        throttle: new Throttle(options.streamRate),
        metrics: this.metrics,
      }),
      hints: this.hints,
      replicationPeers,
      placement: () => this.current,
      unsynced,
      ready: () => this.link.ready(),
      heartbeatIntervalMs: options.heartbeatIntervalMs,
      antiEntropyIntervalMs: options.antiEntropyIntervalMs,
      logger: this.logger,
      metrics: this.metrics,
      onRoundComplete: (startedAt) => this.fence.gate.roundCompleted(startedAt),
    });
    this.link = new CoordinatorLink({
      coordinators: options.coordinators,
      connect,
      host: advertised.host,
      port: advertised.port,
      zone: options.zone,
      weight: options.weight,
      heartbeatIntervalMs: options.heartbeatIntervalMs,
      handshake,
      logger: this.logger,
      onRing: (read, target, epoch) => this.onRing(read, target, epoch),
      beforeRing: () => this.fence.ensureMeasured(),
      onReconnect: () => this.fence.gate.markStale(),
    });
    this.context = {
      store: this.store,
      quorum: this.requests,
      memory: this.memory,
      maxKeyBytes: options.maxKeyBytes,
      now: options.wallClock ?? Date.now,
      beforeReplicaWrite: (records) => this.fence.gate.beforeReplicaWrite(records),
      answersAlone: (key, askerEpoch) => {
        // A node that does not own the key in its own ring (it lost the range, or has not
        // learnt that it gained it) may hold an old copy or none: it is not read alone.
        // Nor is one whose ring is older than the asker's: writes made at the newer epoch
        // went to the newer ring's owners, maybe not here.
        const t = token(key);
        const alone =
          this.fence.gate.readsAlone &&
          (askerEpoch === undefined || (this.current?.epoch ?? 0) >= askerEpoch) &&
          this.current?.readOwnersOfToken(t).includes(this.id) === true &&
          !(unsynced.any && unsynced.previousOwners(t));
        if (!alone) this.metrics.counters.staleAnswers.inc();
        return alone;
      },
      heardFrom: (id) => replicationPeers.heardFrom(id),
      missedWrites: (remote) => {
        this.metrics.counters.missedWriteNotices.inc();
        this.logger.info(
          `A member at ${remote} kept writes for this node as hints (its queue to this node was full): reads ask another replica too until a sync round with every member`,
        );
        this.fence.gate.markStale();
      },
      deliverHints: (replica) =>
        this.hints.deliverTo(replicationPeers, replica).catch((err: unknown) => {
          throw unavailable(
            `could not deliver the writes kept for ${replica}: ${err instanceof Error ? err.message : String(err)}`,
          );
        }),
      info: (sections) => renderInfo(this.infoSections(), sections),
      selfId: this.id,
      placement: () => this.current,
      digests,
      scans: new ScanCursors(this.store),
      access: this.access,
      decommission: () => {
        if (this.closing) return false;
        void this.close({ leave: true });
        return true;
      },
      ring: () => this.ringView(),
      config: () => this.configValues(),
    };
    const store = this.store;
    this.metrics.readFrom({
      keys: () => store.size - store.tombstones,
      tombstones: () => store.tombstones,
      dataBytes: () => store.bytes,
      ringEpoch: () => this.current?.epoch ?? -1,
      ringMembers: () => this.current?.read.size ?? 0,
      connectedClients: () => this.server.connectionCount,
      requestsInFlight: () => this.server.inFlight,
      heldConnections: () => this.server.heldConnections,
    });
  }

  /** The port `/metrics` is served on; undefined when metrics are not served. */
  get metricsPort(): number | undefined {
    return this.metricsEndpoint?.port;
  }

  /**
   * Checks the options, listens, then registers with the coordinator and heartbeats.
   * @throws InvalidNodeOptionError for an invalid option; the listen error if the address
   *   cannot be bound
   */
  static async start(options: NodeOptions): Promise<StorageNode> {
    const resolved = resolveNodeOptions(options);
    // The data directory is held (or refused) before the port is taken.
    const storage = openStorage(resolved);
    // The node id is the bound address, so the node is built once listening; no request
    // can arrive before this synchronous continuation of listen() has run.
    const built: { node?: StorageNode } = {};
    const server = createRespServer({
      handler: (args, connection) => (built.node as StorageNode).handle(args, connection),
      onClose: (connection, byServer) => built.node?.memberConnections.closed(connection, byServer),
      limits: {
        maxBulkLength: Math.max(resolved.maxValueBytes, resolved.maxKeyBytes),
        maxArguments: MAX_ARGUMENTS,
      },
      idleTimeoutMs: resolved.idleTimeoutMs,
      requestTimeoutMs: resolved.requestTimeoutMs,
      maxConnections: resolved.maxConnections,
      maxInFlight: resolved.maxInFlight,
      admitsAtBound: (args) => built.node?.admitsAtBound(args) ?? true,
      onHeld: () => built.node?.metrics.counters.connectionsHeld.inc(),
      listen: resolved.tls
        ? listenTls({
            ...resolved.tls,
            onHandshakeError: (err, remote) =>
              built.node?.logger.log(
                handshakeFailureLevel(err),
                `TLS handshake with ${remote} failed: ${err.message}`,
              ),
          })
        : listenTcp,
      onError: (err) =>
        built.node?.logger.error(
          `Internal error serving a command: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
        ),
    });
    let bound;
    let metricsEndpoint: HttpEndpoint | undefined;
    try {
      bound = await server.listen(resolved.port, resolved.host);
      metricsEndpoint = await StorageNode.serveMetrics(resolved, built);
    } catch (err) {
      await server.close();
      await storage.close();
      throw err;
    }
    const node = new StorageNode({
      options: resolved,
      server,
      bound: { host: bound.address, port: bound.port },
      metricsEndpoint,
      storage,
    });
    built.node = node;
    await node.run();
    return node;
  }

  /**
   * Listens for `/metrics` when a metrics port is set, on the node's own interface (so
   * protected mode binds it as it binds the RESP port), over TLS when the node speaks it,
   * for the users of the users file when there is one. The registry is read through
   * `built` once the node exists (no scrape comes before).
   */
  private static async serveMetrics(
    options: ResolvedNodeOptions,
    built: { node?: StorageNode },
  ): Promise<HttpEndpoint | undefined> {
    if (options.metricsPort === undefined) return undefined;
    return createHttpEndpoint(options.metricsPort, options.host, {
      metrics: {
        contentType: NodeMetrics.contentType,
        metrics: () => (built.node as StorageNode).metrics.registry.metrics(),
      },
      onError: (err) => built.node?.logger.error(`Serving /metrics failed: ${String(err)}`),
      ...(options.tls && {
        tls: {
          ...options.tls,
          onHandshakeError: (err, remote) =>
            built.node?.logger.log(
              handshakeFailureLevel(err),
              `TLS handshake with ${remote} on the metrics port failed: ${err.message}`,
            ),
        },
      }),
      users: options.users,
      onAuthFailure: (remote, user, reason) => {
        built.node?.metrics.counters.authFailures.inc();
        built.node?.logger.warn(
          `Refused a /metrics request from ${remote}${user === undefined ? '' : ` as ${user}`}: ${reason}`,
        );
      },
    });
  }

  /** The ring this node routes reads with, once it has one. */
  get ring(): Ring | undefined {
    return this.current?.read;
  }

  /** The current placement (read and target rings), once it has one. */
  get placement(): RingEpoch | undefined {
    return this.current;
  }

  /** Stops accepting, finishes in-flight requests, leaves the ring if `leave` (default true). */
  close({ leave = true }: { leave?: boolean } = {}): Promise<void> {
    this.closing ??= this.shutdown(leave).finally(this.markClosed);
    return this.closing;
  }

  private readonly timer = new CommandTimer(this.metrics);
  private readonly memberConnections = new MemberConnections((remote) => {
    if (this.closing) return;
    this.metrics.counters.memberConnectionsLost.inc();
    this.logger.info(
      `A member's connection from ${remote} closed: reads ask another replica too until a sync round with every member`,
    );
    this.fence.gate.markStale();
  });
  // Timed and counted first, so refused commands count too; then the access check; then
  // connections that passed it with member traffic are noted, and never held at the bound.
  private readonly router = createNodeRouter([
    this.timer.hook,
    (command, args, connection): void => this.access.hook(command, args, connection),
    this.memberConnections.hook,
    prioritizeMembers,
  ]);
  private readonly admitsAtBound = admitsMemberRequests(this.router);

  private handle(args: Buffer[], connection: ServerConnection): Reply | Promise<Reply> {
    const startedAt = this.timer.start();
    let reply: Reply | Promise<Reply>;
    try {
      reply = inSequence(args, connection, () =>
        this.router.dispatch(args, this.context, connection),
      );
    } catch (err) {
      this.timer.threw(startedAt);
      throw err;
    }
    return this.timer.finish(startedAt, reply);
  }

  /** Start order: purging, then the coordinator link (which brings rings, then data). */
  private async run(): Promise<void> {
    this.purgeTimer = setInterval(() => {
      const purged = this.store.purge(this.options.tombstoneGraceMs);
      if (purged > 0) this.logger.debug(`Purged ${purged} tombstone(s) and expired record(s)`);
    }, this.options.purgeIntervalMs);
    this.purgeTimer.unref();
    this.logger.info(`Started on ${this.host}:${this.port}${describeServerTls(this.options.tls)}`);
    if (this.storage.description) this.logger.info(this.storage.description);
    if (this.options.maxMemory === 0)
      this.logger.warn(
        'No --max-memory set: this node takes writes until the process runs out of memory; set one (e.g. --max-memory 1gb) to answer writes with -OOM past it',
      );
    if (this.metricsEndpoint) {
      this.metrics.collectProcessMetrics();
      this.logger.info(
        `Metrics on http://${this.metricsEndpoint.host}:${this.metricsEndpoint.port}/metrics`,
      );
    }
    // The clock is measured (against the coordinator, the only member known yet) before the
    // node joins: it stamps no write before it knows its clock is in bounds.
    await this.fence.start();
    // Records kept from an earlier run may lack the writes made while this node was down:
    // it answers no read alone until a sync round with the other replicas has completed.
    if (this.store.size > 0) this.fence.gate.markStale();
    await this.link.start();
  }

  /** Stop order: the reverse of start, after handing data off when leaving. */
  private async shutdown(leave: boolean): Promise<void> {
    clearInterval(this.purgeTimer);
    if (leave) await this.handOffBeforeLeaving();
    this.rebalancer.close();
    this.fence.stop();
    await this.server.close(this.options.shutdownGraceMs);
    await this.link.stop(leave);
    this.peers.close();
    this.syncPeers.close();
    await this.storage.close();
    await this.metricsEndpoint?.close();
    this.logger.info('Stopped');
  }

  private onRing(read: Ring, target: Ring, epoch: number): void {
    const previous = this.current;
    const placement = new RingEpoch(
      epoch,
      read,
      target,
      this.options.replicationFactor ?? read.replicationFactor,
    );
    this.current = placement;
    const phase = placement.phaseOf(this.id);
    this.logger.info(
      `Ring epoch ${epoch}: ${read.size} node(s)${placement.settled ? '' : `, ${target.size} in the target ring`}${phase === Phase.SERVING ? '' : `; this node is ${phase}`}`,
    );
    if (previous?.phaseOf(this.id) === Phase.JOINING && phase === Phase.SERVING)
      this.logger.info('Joined: serving reads');
    this.rebalancer.onPlacement(placement);
  }

  /** A graceful leave: out of the target ring, data handed to the next owners, then out. */
  private async handOffBeforeLeaving(): Promise<void> {
    const placement = this.current;
    if (placement?.phaseOf(this.id) !== Phase.SERVING || placement.read.size <= 1) return;
    try {
      await this.link.leaving();
    } catch (err) {
      this.logger.warn(
        `Could not announce the leave to the coordinator (${(err as Error).message}): leaving without handing off; the other replicas keep the data`,
      );
      return;
    }
    this.logger.info('Leaving: handing data to the next owners');
    const timeoutMs = this.options.leaveTimeoutMs;
    if (await this.rebalancer.leave(timeoutMs)) this.logger.info('Hand-off complete');
    else
      this.logger.warn(
        `Hand-off incomplete after ${timeoutMs} ms (${this.metrics.gauges.handoffPending.value} record(s) unconfirmed); leaving anyway`,
      );
  }

  /** The rings as RING answers them, serialised once per epoch. */
  private ringView(): ReturnType<CommandContext['ring']> {
    const placement = this.current;
    if (placement === undefined) return undefined;
    if (this.ringJson?.epoch !== placement.epoch) {
      this.ringJson = {
        epoch: placement.epoch,
        json: JSON.stringify(placement.read.toJSON()),
        ...(!placement.settled && { target: JSON.stringify(placement.target.toJSON()) }),
      };
    }
    return this.ringJson;
  }

  private configValues(): Record<string, string> {
    const { maxValueBytes, maxKeyBytes, writeQuorum, readQuorum, maxInFlight, maxReplicaQueue } =
      this.options;
    return {
      save: '',
      appendonly: 'no',
      databases: '1',
      'proto-max-bulk-len': String(maxValueBytes),
      'kv-max-key-bytes': String(maxKeyBytes),
      'kv-write-quorum': String(writeQuorum),
      'kv-read-quorum': String(readQuorum),
      'kv-max-in-flight': String(maxInFlight),
      'kv-max-replica-queue': String(maxReplicaQueue),
    };
  }

  private infoSections(): ReturnType<typeof nodeInfoSections> {
    return nodeInfoSections({
      id: this.id,
      port: this.port,
      startedAt: this.startedAt,
      options: this.options,
      store: this.store,
      memory: this.memory,
      placement: this.current,
      connectedClients: this.server.connectionCount,
      requestsInFlight: this.server.inFlight,
      heldConnections: this.server.heldConnections,
      coordinatorConnected: this.link.connected,
      coordinator: this.link.address,
      metrics: this.metrics,
      phase: this.rebalancer.phase,
    });
  }
}

/** Starts a storage node: listens, registers with the coordinator and heartbeats. */
export function startNode(options: NodeOptions): Promise<KvNode> {
  return StorageNode.start(options);
}
