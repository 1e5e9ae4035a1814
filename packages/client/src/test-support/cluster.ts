import { startCoordinator } from '@kv/coordinator';
import { startNode, type KvNode, type NodeOptions } from '@kv/node';
import { RespConnection, type UserTable } from '@kv/protocol';

/** The cluster secret and users every process of a test cluster runs with. */
export interface ClusterAccess {
  readonly clusterSecret?: Buffer;
  readonly users?: UserTable;
}

type Coordinator = Awaited<ReturnType<typeof startCoordinator>>;

/**
 * A coordinator and storage nodes in this process on loopback ports, for client tests:
 * nodes can be stopped without leaving (as a crash looks to the cluster), added, and the
 * coordinator stopped and started again on its port.
 */
export class LocalCluster {
  readonly nodes: KvNode[] = [];
  private constructor(
    public coordinator: Coordinator | undefined,
    readonly coordinatorPort: number,
    private readonly failureTimeoutMs: number,
    private readonly access: ClusterAccess,
  ) {}

  static async start(
    size: number,
    failureTimeoutMs = 10_000,
    access: ClusterAccess = {},
  ): Promise<LocalCluster> {
    const coordinator = await startCoordinator({
      ...LocalCluster.coordinatorOptions(0, failureTimeoutMs),
      ...access,
    });
    const cluster = new LocalCluster(coordinator, coordinator.port, failureTimeoutMs, access);
    for (let i = 0; i < size; i++) await cluster.addNode();
    await waitFor(() => cluster.nodes.every((n) => n.ring?.size === size));
    return cluster;
  }

  private static coordinatorOptions(port: number, failureTimeoutMs: number) {
    return {
      host: '127.0.0.1',
      port,
      heartbeatIntervalMs: 50,
      failureTimeoutMs,
      silent: true,
    } as const;
  }

  get address(): string {
    return `127.0.0.1:${this.coordinatorPort}`;
  }

  async addNode(options: Partial<NodeOptions> = {}): Promise<KvNode> {
    const node = await startNode({
      port: 0,
      host: '127.0.0.1',
      coordinator: this.address,
      heartbeatIntervalMs: 50,
      replicaTimeoutMs: 500,
      silent: true,
      ...this.access,
      ...options,
    });
    this.nodes.push(node);
    return node;
  }

  node(id: string): KvNode {
    const node = this.nodes.find((n) => n.id === id);
    if (!node) throw new Error(`no node ${id}`);
    return node;
  }

  /** Stops a node without leaving the ring, as a crash would. */
  async crash(id: string): Promise<void> {
    await this.node(id).close({ leave: false });
    this.nodes.splice(this.nodes.indexOf(this.node(id)), 1);
  }

  async stopCoordinator(): Promise<void> {
    await this.coordinator?.close();
    this.coordinator = undefined;
  }

  async restartCoordinator(): Promise<void> {
    this.coordinator = await startCoordinator({
      ...LocalCluster.coordinatorOptions(this.coordinatorPort, this.failureTimeoutMs),
      ...this.access,
    });
  }

  /** One INFO field of a node, read over a connection of its own. */
  async info(id: string, field: string): Promise<string | undefined> {
    const node = this.node(id);
    const connection = await RespConnection.connect({ port: node.port });
    try {
      const lines = String(await connection.send(['INFO'])).split('\r\n');
      return lines.find((l) => l.startsWith(`${field}:`))?.slice(field.length + 1);
    } finally {
      connection.destroy();
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.nodes.splice(0).map((n) => n.close({ leave: false })));
    await this.coordinator?.close();
  }
}

export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
