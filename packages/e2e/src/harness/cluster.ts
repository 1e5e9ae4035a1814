import { join } from 'node:path';
import { binPath } from './bins';
import { clusterSecretFile } from './cluster-secret';
import { addressOf, type Endpoint } from './endpoint';
import { ManagedProcess } from './managed-process';
import { infoNumber, listNodes, nodesForKey, ringOf, type MemberRow } from './resp';
import {
  loopbackPlacement,
  serverTlsArgs,
  tlsPlacement,
  type ClusterPlacement,
  type ClusterRole,
  type ClusterTls,
} from './cluster-placement';
import { waitFor } from './wait';

export { loopbackPlacement, type ClusterPlacement, type ClusterRole, type ClusterTls };

/** Timings and shape of a test cluster. Short timings keep failure tests quick. */
export interface ClusterOptions {
  /** Storage nodes to start. @default 3 */
  nodes?: number;
  /** Coordinator and node `--heartbeat-interval`. @default 200 */
  heartbeatIntervalMs?: number;
  /** Coordinator `--failure-timeout`. @default 2000 */
  failureTimeoutMs?: number;
  /** Node `--replica-timeout`. @default 1000 */
  replicaTimeoutMs?: number;
  /** Coordinator `--data-dir`, to persist membership. */
  dataDir?: string;
  /** Nodes get `--data-dir <nodeDataRoot>/node-<port>` (durable records). */
  nodeDataRoot?: string;
  /** More node flags. */
  nodeArgs?: readonly string[];
  /** How long the cluster may take to form. @default 20000 */
  readyTimeoutMs?: number;
  /** Where processes listen and how they start. @default {@link loopbackPlacement}() */
  placement?: ClusterPlacement;
  /**
   * Every server speaks TLS with these certificates (`--tls-cert`, `--tls-key`, `--tls-ca`),
   * requiring client certificates with `clientCerts`; the harness dials with the client
   * certificate.
   */
  tls?: ClusterTls;
  /**
   * Give every process `--metrics-port` (a free port of its host): `/metrics` everywhere,
   * the dashboard on the coordinator's. @default false
   */
  metrics?: boolean;
  /**
   * Coordinators to start, each with the same flags on its own port; nodes get every one
   * in `--coordinator`. More than one needs a shared store in `coordinatorArgs`
   * (`--store etcd://...`). @default 1
   */
  coordinators?: number;
  /** More coordinator flags. */
  coordinatorArgs?: readonly string[];
}

type ResolvedOptions = Required<Omit<ClusterOptions, 'dataDir' | 'tls' | 'nodeDataRoot'>> &
  Pick<ClusterOptions, 'dataDir' | 'tls' | 'nodeDataRoot'>;

/** A storage node of a {@link Cluster}. */
export interface ClusterNode {
  /** `host:port`, its id in the ring. */
  readonly id: string;
  readonly endpoint: Endpoint;
  readonly port: number;
  readonly process: ManagedProcess;
  /** Its `/metrics` endpoint, when the cluster was started with `metrics`. */
  readonly metrics: Endpoint | undefined;
}

export function nodeId(port: number): string {
  return addressOf(port);
}

/**
 * A coordinator and storage nodes running as real processes (the built `kv-coordinator`
 * and `kv-node`), by default on free ports of 127.0.0.1.
 */
export class Cluster {
  /** Index of the coordinator the harness asks (LIST_NODES, RING, ...). */
  private asked = 0;

  private constructor(
    /** Every coordinator started, in start order. */
    readonly coordinators: readonly ManagedProcess[],
    readonly coordinatorEndpoints: readonly Endpoint[],
    private readonly started: ClusterNode[],
    readonly options: ResolvedOptions,
    /** The coordinator's `/metrics` and dashboard, when started with `metrics`. */
    readonly coordinatorMetrics: Endpoint | undefined,
  ) {}

  /** The coordinator the harness asks: the first, unless {@link askCoordinator} chose another. */
  get coordinator(): ManagedProcess {
    return this.coordinators[this.asked] as ManagedProcess;
  }

  /** The endpoint of {@link coordinator}. */
  get coordinatorEndpoint(): Endpoint {
    return this.coordinatorEndpoints[this.asked] as Endpoint;
  }

  /** Makes coordinator `index` the one the harness asks from now on. */
  askCoordinator(index: number): void {
    if (this.coordinators[index] === undefined) throw new Error(`no coordinator ${index}`);
    this.asked = index;
  }

  /** The coordinator's port (on 127.0.0.1 with the default placement). */
  get coordinatorPort(): number {
    return this.coordinatorEndpoint.port;
  }

  /** Every node started, in start order (stopped ones included). */
  get nodes(): readonly ClusterNode[] {
    return this.started;
  }

  /** `host:port` of the coordinator, for clients and the CLI. */
  get coordinatorAddress(): string {
    return addressOf(this.coordinatorEndpoint);
  }

  /**
   * Starts the coordinator, then the nodes, and resolves once every node is a live member
   * and every node routes with the coordinator's current ring.
   */
  static async start(options: ClusterOptions = {}): Promise<Cluster> {
    const resolved: ResolvedOptions = {
      nodes: options.nodes ?? 3,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 200,
      failureTimeoutMs: options.failureTimeoutMs ?? 2000,
      replicaTimeoutMs: options.replicaTimeoutMs ?? 1000,
      nodeArgs: options.nodeArgs ?? [],
      readyTimeoutMs: options.readyTimeoutMs ?? 20_000,
      placement: tlsPlacement(options.placement ?? loopbackPlacement(), options.tls),
      metrics: options.metrics ?? false,
      dataDir: options.dataDir,
      tls: options.tls,
      nodeDataRoot: options.nodeDataRoot,
      coordinators: options.coordinators ?? 1,
      coordinatorArgs: options.coordinatorArgs ?? [],
    };
    const { placement } = resolved;
    const coordinatorEndpoints: Endpoint[] = [];
    for (let i = 0; i < resolved.coordinators; i++)
      coordinatorEndpoints.push(await placement.endpoint('coordinator'));
    const nodeEndpoints: Endpoint[] = [];
    for (let i = 0; i < resolved.nodes; i++) nodeEndpoints.push(await placement.endpoint(i));
    const metricsOf = async (role: ClusterRole): Promise<Endpoint | undefined> =>
      resolved.metrics ? placement.endpoint(role) : undefined;
    const coordinatorMetrics = await metricsOf('coordinator');
    const nodeMetrics: (Endpoint | undefined)[] = [];
    for (let i = 0; i < resolved.nodes; i++) nodeMetrics.push(await metricsOf(i));
    const coordinatorArgs = (endpoint: Endpoint, metrics: Endpoint | undefined): string[] => [
      '--host',
      endpoint.host,
      '--port',
      String(endpoint.port),
      '--heartbeat-interval',
      String(resolved.heartbeatIntervalMs),
      '--failure-timeout',
      String(resolved.failureTimeoutMs),
      ...(resolved.dataDir === undefined ? [] : ['--data-dir', resolved.dataDir]),
      ...['--cluster-secret-file', clusterSecretFile()],
      ...serverTlsArgs(resolved.tls),
      ...(metrics ? ['--metrics-port', String(metrics.port)] : []),
      ...resolved.coordinatorArgs,
    ];
    const coordinators = coordinatorEndpoints.map((endpoint, i) =>
      ManagedProcess.start({
        name: `coordinator ${addressOf(endpoint)}`,
        ...placement.launch(
          'coordinator',
          binPath('@kv/coordinator'),
          coordinatorArgs(endpoint, i === 0 ? coordinatorMetrics : undefined),
        ),
      }),
    );
    for (const coordinator of coordinators)
      await coordinator.waitForLine(/\[Coordinator\] Started on /, resolved.readyTimeoutMs);
    const nodes = nodeEndpoints.map((endpoint, i) =>
      Cluster.spawnNode(i, endpoint, coordinatorEndpoints, resolved, nodeMetrics[i]),
    );
    const cluster = new Cluster(
      coordinators,
      coordinatorEndpoints,
      nodes,
      resolved,
      coordinatorMetrics,
    );
    await cluster.waitForMembers(
      nodes.map((n) => n.id),
      resolved.readyTimeoutMs,
    );
    return cluster;
  }

  /**
   * Starts one more node with the same flags and resolves once it is a serving member (it
   * joins: it copies its ranges before the coordinator marks it `up`) routing with the
   * current ring.
   */
  async addNode(timeoutMs = 60_000): Promise<ClusterNode> {
    const node = await this.startNode();
    // Only the new node is waited for: others may be killed meanwhile (tests do that).
    await waitFor(
      () => `${node.id} up, routing with the current ring\n${this.logs()}`,
      async () => {
        const row = (await this.members()).find((r) => r.id === node.id);
        if (row?.state !== 'up') return undefined;
        const ring = await ringOf(this.coordinatorEndpoint);
        return (await ringOf(node.endpoint)).epoch >= ring.epoch ? true : undefined;
      },
      { timeoutMs, intervalMs: 50 },
    );
    return node;
  }

  /**
   * Starts one more node with the same flags and `extraArgs` after them, without waiting
   * for it to join; it reaches the cluster through `coordinators` (by default all).
   */
  async startNode(
    extraArgs: readonly string[] = [],
    coordinators: readonly Endpoint[] = this.coordinatorEndpoints,
  ): Promise<ClusterNode> {
    const index = this.started.length;
    const { placement } = this.options;
    const endpoint = await placement.endpoint(index);
    const metrics = this.options.metrics ? await placement.endpoint(index) : undefined;
    const node = Cluster.spawnNode(index, endpoint, coordinators, this.options, metrics, extraArgs);
    this.started.push(node);
    return node;
  }

  /**
   * Starts node `which` again, a new process with the same address and flags (so the same
   * data directory), after its previous process has exited.
   */
  restartNode(which: string | number): ClusterNode {
    const old = this.node(which);
    if (old.process.running) throw new Error(`${old.id} still runs: stop or kill it first`);
    const index = this.started.indexOf(old);
    const node = Cluster.spawnNode(
      index,
      old.endpoint,
      this.coordinatorEndpoints,
      this.options,
      undefined,
    );
    this.started[index] = node;
    return node;
  }

  private static spawnNode(
    index: number,
    endpoint: Endpoint,
    coordinators: readonly Endpoint[],
    options: ResolvedOptions,
    metrics: Endpoint | undefined,
    extraArgs: readonly string[] = [],
  ): ClusterNode {
    const id = addressOf(endpoint);
    const args = [
      '--host',
      endpoint.host,
      '--port',
      String(endpoint.port),
      '--coordinator',
      coordinators.map((c) => addressOf(c)).join(','),
      '--heartbeat-interval',
      String(options.heartbeatIntervalMs),
      '--replica-timeout',
      String(options.replicaTimeoutMs),
      ...['--cluster-secret-file', clusterSecretFile()],
      ...serverTlsArgs(options.tls),
      ...(metrics ? ['--metrics-port', String(metrics.port)] : []),
      ...(options.nodeDataRoot === undefined
        ? []
        : ['--data-dir', join(options.nodeDataRoot, `node-${endpoint.port}`)]),
      ...options.nodeArgs,
      ...extraArgs,
    ];
    return {
      id,
      endpoint,
      metrics,
      port: endpoint.port,
      process: ManagedProcess.start({
        name: `node ${id}`,
        ...options.placement.launch(index, binPath('@kv/node'), args),
      }),
    };
  }

  /** The node with this id or index. */
  node(which: string | number): ClusterNode {
    const found =
      typeof which === 'number' ? this.nodes[which] : this.nodes.find((n) => n.id === which);
    if (!found) throw new Error(`no node ${String(which)} in this cluster`);
    return found;
  }

  /**
   * The nodes holding `key` as the coordinator places it (`GET_NODES_FOR_KEY`): primary
   * first, then the two replicas. Throws unless there are exactly three.
   */
  async replicaSet(key: string): Promise<[ClusterNode, ClusterNode, ClusterNode]> {
    const ids = await nodesForKey(this.coordinatorEndpoint, key);
    const [primary, second, third] = ids.map((id) => this.node(id));
    if (ids.length !== 3 || !primary || !second || !third)
      throw new Error(`expected 3 nodes for ${key}, the coordinator names ${ids.join(', ')}`);
    return [primary, second, third];
  }

  /** Nodes whose processes run, in start order. */
  runningNodes(): ClusterNode[] {
    return this.nodes.filter((n) => n.process.running);
  }

  /** `LIST_NODES` of the coordinator. */
  members(): Promise<MemberRow[]> {
    return listNodes(this.coordinatorEndpoint);
  }

  /**
   * Waits until `LIST_NODES` shows exactly `ids`, all `up`, no node is joining or leaving
   * (the coordinator's `RING` has no target ring), and each of them answers `RING` with the
   * coordinator's epoch (so it routes with the current ring) and is in touch with the
   * coordinator (`coordinator_connected:1`: right after a cut of the coordinator, its list
   * can still show as `up` a node it has not heard from again, and will declare dead).
   */
  async waitForMembers(ids: readonly string[], timeoutMs: number): Promise<void> {
    const expected = [...ids].sort();
    await waitFor(
      () => `members ${expected.join(', ')} up, each routing with the current ring\n${this.logs()}`,
      async () => {
        const rows = await this.members();
        const listed = rows.map((r) => r.id).sort();
        if (listed.join() !== expected.join() || rows.some((r) => r.state !== 'up'))
          return undefined;
        const ring = await ringOf(this.coordinatorEndpoint);
        if (ring.target !== undefined) return undefined;
        for (const id of expected) {
          const { endpoint } = this.node(id);
          if ((await ringOf(endpoint)).epoch !== ring.epoch) return undefined;
          if ((await infoNumber(endpoint, 'coordinator_connected')) !== 1) return undefined;
        }
        return true;
      },
      { timeoutMs, intervalMs: 50 },
    );
  }

  /**
   * Tails of every process's output, for failure messages; with `origin`, each line with
   * when it was read, in ms after it (see {@link ManagedProcess.tail}).
   */
  logs(lines = 40, origin?: number): string {
    return [...this.coordinators, ...this.nodes.map((n) => n.process)]
      .map((p) => p.tail(lines, origin))
      .join('\n');
  }
}
