import {
  AccessControl,
  ConnectionPool,
  connectTcp,
  connectTls,
  handshakeFor,
  type ConnectFactory,
  type HttpEndpoint,
  type Reply,
  type ServerConnection,
} from '@kv/protocol';
import { type Ring, Phase, RingEpoch } from '@kv/ring';
import type { Logger } from 'winston';
import { admitsMemberRequests, prioritizeMembers } from './admission';
import type { CommandContext } from './command-context';
import { inSequence } from './command-sequence';
import { NODE_COMMANDS, createNodeRouter } from './node-commands';
import { ClockFence } from './clock-fence';
import { CommandTimer } from './command-timer';
import { CoordinatorLink } from './coordinator-link';
import { HintStore } from './hints';
import { createNodeLogger } from './logger';
import { MemberConnections } from './member-connections';
import { MemoryLimit } from './memory-limit';
import { NodeMetrics } from './metrics';
import { createNodeContext, readNodeMetrics } from './node-context';
import { NodeLifecycle } from './node-lifecycle';
import { listenNode, type NodeParts } from './node-listeners';
import type { NodeOptions } from './node-options';
import { Rebalancer } from './rebalancer';
import type { ResolvedNodeOptions } from './resolve-node-options';
import { PeerClient, syncConnections } from './peer-client';
import { QuorumOperations } from './quorum-operations';
import { Replicas } from './replica';
import { Store } from './store';
import { CoOwnedDigests } from './sync-source';
import { Syncer } from './syncer';
import { Throttle } from './throttle';
import { UnsyncedRanges } from './unsynced-ranges';

export type { NodeOptions };

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
  /**
   * What stopped the node on its own, if anything did: a write-ahead log that failed to
   * sync (the node can make no further write durable, so it acknowledges nothing more).
   */
  readonly failure: Error | undefined;
  /** Stops accepting, finishes in-flight requests, leaves the ring if `leave` (default true). */
  close(options?: { leave?: boolean }): Promise<void>;
}

/**
 * A storage node: serves commands, keeps its data in a {@link Store}, coordinates client
 * requests over the key's replicas, follows the ring the coordinator publishes and moves
 * data when it changes. Built by {@link StorageNode.start}; every part is created in the
 * constructor, then started and stopped by a {@link NodeLifecycle}, each in one explicit order.
 */
export class StorageNode implements KvNode {
  readonly id: string;
  readonly host: string;
  readonly port: number;
  readonly store: Store;
  readonly closed: Promise<void>;
  failure: Error | undefined;
  private readonly options: ResolvedNodeOptions;
  private readonly metricsEndpoint: HttpEndpoint | undefined;
  private readonly logger: Logger;
  private readonly startedAt = Date.now();
  private readonly peers: ConnectionPool;
  private readonly hints: HintStore;
  private readonly memory: MemoryLimit;
  /** This node's metrics registry (several nodes may share a process). */
  readonly metrics = new NodeMetrics(
    Object.entries(NODE_COMMANDS).flatMap(([name, spec]) => [name, ...(spec.aliases ?? [])]),
  );
  private readonly rebalancer: Rebalancer;
  private readonly link: CoordinatorLink;
  private readonly fence: ClockFence;
  private readonly context: CommandContext;
  private readonly access: AccessControl;
  private readonly lifecycle: NodeLifecycle;
  private current: RingEpoch | undefined;
  private closing: Promise<void> | undefined;
  private markClosed: () => void = () => undefined;

  private constructor({ options, server, bound, metricsEndpoint, storage }: NodeParts) {
    this.options = options;
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
    const syncPeers = syncConnections(options.replicaTimeoutMs, handshake, connect);
    this.hints = new HintStore({
      maxHints: options.maxHints,
      maxBytes: options.maxHintBytes,
      metrics: this.metrics,
      journal: storage.engine.hintJournal?.(),
      logger: this.logger,
    });
    const digests = new CoOwnedDigests(this.store, this.id);
    const replicationPeers = new PeerClient(this.peers, this.metrics);
    const unsynced = new UnsyncedRanges(this.id, storage.engine.syncProgressJournal?.());
    const requests = new QuorumOperations({
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
        peers: new PeerClient(syncPeers),
        throttle: new Throttle(options.streamRate),
        metrics: this.metrics,
      }),
      hints: this.hints,
      replicationPeers,
      placement: () => this.current,
      unsynced,
      ready: () => this.link.ready(),
      heartbeatIntervalMs: options.heartbeatIntervalMs,
      inFlightMs: options.replicaTimeoutMs,
      antiEntropyIntervalMs: options.antiEntropyIntervalMs,
      logger: this.logger,
      metrics: this.metrics,
      onRoundComplete: (startedAt) => {
        if (this.fence.gate.roundCompleted(startedAt))
          this.logger.info('Synced with every member: this copy is no longer suspect');
      },
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
      onLost: () => this.fence.gate.lostCoordinator(),
      // Cut off, maybe partitioned: its sync connections may be stale (ConnectionPool.reset).
      onReconnect: () => {
        this.fence.gate.reachedCoordinator();
        syncPeers.reset();
      },
    });
    const parts = {
      id: this.id,
      host: this.host,
      port: this.port,
      startedAt: this.startedAt,
      options,
      storage,
      server,
      metricsEndpoint,
      store: this.store,
      memory: this.memory,
      requests,
      hints: this.hints,
      replicationPeers,
      unsynced,
      digests,
      peers: this.peers,
      syncPeers,
      fence: this.fence,
      access: this.access,
      link: this.link,
      rebalancer: this.rebalancer,
      metrics: this.metrics,
      logger: this.logger,
      placement: () => this.current,
      decommission: () => {
        if (this.closing) return false;
        void this.close({ leave: true });
        return true;
      },
    };
    // A log that cannot sync makes every later acknowledgement a lie: the node stops, as
    // Redis exits when its append-only file cannot be synced under `appendfsync always`.
    // What it acknowledged is in the log, replayed when it starts again on the directory.
    void storage.engine.failed?.then((err) => {
      this.failure = err;
      this.logger.error(
        `${err.message}: stopping. Started again on its data directory, the node replays what its log holds`,
      );
      this.close({ leave: false }).catch((closing: unknown) =>
        this.logger.error(`Stopping after that failure failed too: ${String(closing)}`),
      );
    });
    this.context = createNodeContext(parts);
    readNodeMetrics(parts);
    this.lifecycle = new NodeLifecycle(parts);
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
    // The listeners reach the node through `built`, set as soon as it is built.
    const built: { node?: StorageNode } = {};
    const parts = await listenNode(options, {
      handle: (args, connection) => (built.node as StorageNode).handle(args, connection),
      onClose: (connection, byServer) => built.node?.memberConnections.closed(connection, byServer),
      admitsAtBound: (args) => built.node?.admitsAtBound(args) ?? true,
      metrics: () => built.node?.metrics,
      logger: () => built.node?.logger,
    });
    const node = new StorageNode(parts);
    built.node = node;
    await node.lifecycle.start();
    return node;
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
    this.closing ??= this.lifecycle.stop(leave).finally(this.markClosed);
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
}

/** Starts a storage node: listens, registers with the coordinator and heartbeats. */
export function startNode(options: NodeOptions): Promise<KvNode> {
  return StorageNode.start(options);
}
