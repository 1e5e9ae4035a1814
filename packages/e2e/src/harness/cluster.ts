import { binPath } from './bins';
import { freePorts, HOST } from './free-port';
import { ManagedProcess } from './managed-process';
import { listNodes, nodesForKey, ringOf, type MemberRow } from './resp';
import { waitFor } from './wait';

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
  /** More node flags. */
  nodeArgs?: readonly string[];
  /** How long the cluster may take to form. @default 20000 */
  readyTimeoutMs?: number;
}

/** A storage node of a {@link Cluster}. */
export interface ClusterNode {
  /** `127.0.0.1:port`, its id in the ring. */
  readonly id: string;
  readonly port: number;
  readonly process: ManagedProcess;
}

export function nodeId(port: number): string {
  return `${HOST}:${port}`;
}

/**
 * A coordinator and storage nodes running as real processes (the built `kv-coordinator`
 * and `kv-node`) on free ports of 127.0.0.1.
 */
export class Cluster {
  private constructor(
    readonly coordinator: ManagedProcess,
    readonly coordinatorPort: number,
    private readonly started: ClusterNode[],
    readonly options: Required<Omit<ClusterOptions, 'dataDir'>> & { dataDir?: string },
  ) {}

  /** Every node started, in start order (stopped ones included). */
  get nodes(): readonly ClusterNode[] {
    return this.started;
  }

  /** `127.0.0.1:port` of the coordinator, for clients and the CLI. */
  get coordinatorAddress(): string {
    return nodeId(this.coordinatorPort);
  }

  /**
   * Starts the coordinator, then the nodes, and resolves once every node is a live member
   * and every node routes with the coordinator's current ring.
   */
  static async start(options: ClusterOptions = {}): Promise<Cluster> {
    const resolved = {
      nodes: options.nodes ?? 3,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 200,
      failureTimeoutMs: options.failureTimeoutMs ?? 2000,
      replicaTimeoutMs: options.replicaTimeoutMs ?? 1000,
      nodeArgs: options.nodeArgs ?? [],
      readyTimeoutMs: options.readyTimeoutMs ?? 20_000,
      dataDir: options.dataDir,
    };
    const [coordinatorPort, ...nodePorts] = await freePorts(resolved.nodes + 1);
    const coordinatorArgs = [
      binPath('@kv/coordinator'),
      '--host',
      HOST,
      '--port',
      String(coordinatorPort),
      '--heartbeat-interval',
      String(resolved.heartbeatIntervalMs),
      '--failure-timeout',
      String(resolved.failureTimeoutMs),
      ...(resolved.dataDir === undefined ? [] : ['--data-dir', resolved.dataDir]),
    ];
    const coordinator = ManagedProcess.start({
      name: `coordinator ${nodeId(coordinatorPort as number)}`,
      command: process.execPath,
      args: coordinatorArgs,
    });
    await coordinator.waitForLine(/\[Coordinator\] Started on /, resolved.readyTimeoutMs);
    const nodes = nodePorts.map((port) =>
      Cluster.spawnNode(port as number, coordinatorPort as number, resolved),
    );
    const cluster = new Cluster(coordinator, coordinatorPort as number, nodes, resolved);
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
    const [port] = await freePorts(1);
    const node = Cluster.spawnNode(port as number, this.coordinatorPort, this.options);
    this.started.push(node);
    // Only the new node is waited for: others may be killed meanwhile (tests do that).
    await waitFor(
      () => `${node.id} up, routing with the current ring\n${this.logs()}`,
      async () => {
        const row = (await this.members()).find((r) => r.id === node.id);
        if (row?.state !== 'up') return undefined;
        const ring = await ringOf(this.coordinatorPort);
        return (await ringOf(node.port)).epoch >= ring.epoch ? true : undefined;
      },
      { timeoutMs, intervalMs: 50 },
    );
    return node;
  }

  private static spawnNode(
    port: number,
    coordinatorPort: number,
    options: Required<Omit<ClusterOptions, 'dataDir'>>,
  ): ClusterNode {
    return {
      id: nodeId(port),
      port,
      process: ManagedProcess.start({
        name: `node ${nodeId(port)}`,
        command: process.execPath,
        args: [
          binPath('@kv/node'),
          '--host',
          HOST,
          '--port',
          String(port),
          '--coordinator',
          nodeId(coordinatorPort),
          '--heartbeat-interval',
          String(options.heartbeatIntervalMs),
          '--replica-timeout',
          String(options.replicaTimeoutMs),
          ...options.nodeArgs,
        ],
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
    const ids = await nodesForKey(this.coordinatorPort, key);
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
    return listNodes(this.coordinatorPort);
  }

  /**
   * Waits until `LIST_NODES` shows exactly `ids`, all `up`, no node is joining or leaving
   * (the coordinator's `RING` has no target ring), and each of them answers `RING` with the
   * coordinator's epoch (so it routes with the current ring).
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
        const ring = await ringOf(this.coordinatorPort);
        if (ring.target !== undefined) return undefined;
        for (const id of expected) {
          if ((await ringOf(this.node(id).port)).epoch !== ring.epoch) return undefined;
        }
        return true;
      },
      { timeoutMs, intervalMs: 50 },
    );
  }

  /** Tails of every process's output, for failure messages. */
  logs(lines = 40): string {
    return [this.coordinator, ...this.nodes.map((n) => n.process)]
      .map((p) => p.tail(lines))
      .join('\n');
  }
}
