import { startCoordinator } from '@kv/coordinator';
import { RespConnection, type CommandArg, type RespValue } from '@kv/protocol';
import { startNode, type KvNode, type NodeOptions } from '../node';

/** A coordinator and storage nodes started in this process on free loopback ports. */
export interface TestCluster {
  coordinatorPort: number;
  /** The coordinator's HTTP port, when it was given `metricsPort`. */
  coordinatorMetricsPort: number | undefined;
  nodes: KvNode[];
  /** Sends one command to node i over a fresh pipelined connection (kept until close). */
  send(i: number, args: CommandArg[]): Promise<RespValue>;
  /** Starts one more node. */
  addNode(options?: Partial<NodeOptions>): Promise<KvNode>;
  close(): Promise<void>;
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

export async function startCluster(
  size: number,
  nodeOptions: Partial<NodeOptions> = {},
  coordinatorOptions: { failureTimeoutMs?: number; metricsPort?: number } = {},
): Promise<TestCluster> {
  const coordinator = await startCoordinator({
    host: '127.0.0.1',
    port: 0,
    heartbeatIntervalMs: 50,
    failureTimeoutMs: coordinatorOptions.failureTimeoutMs ?? 10_000,
    metricsPort: coordinatorOptions.metricsPort,
    silent: true,
  });
  const nodes: KvNode[] = [];
  const connections = new Map<number, RespConnection>();
  const addNode = async (options: Partial<NodeOptions> = {}): Promise<KvNode> => {
    const node = await startNode({
      port: 0,
      coordinator: `127.0.0.1:${coordinator.port}`,
      heartbeatIntervalMs: 50,
      replicaTimeoutMs: 500,
      silent: true,
      ...nodeOptions,
      ...options,
    });
    nodes.push(node);
    return node;
  };
  for (let i = 0; i < size; i++) await addNode();
  await waitFor(() => nodes.every((n) => n.ring?.size === size));
  return {
    coordinatorPort: coordinator.port,
    coordinatorMetricsPort: coordinator.metricsPort,
    nodes,
    addNode,
    async send(i, args) {
      let c = connections.get(i);
      if (!c || c.closed) {
        c = await RespConnection.connect({
          port: (nodes[i] as KvNode).port,
          requestTimeoutMs: 5000,
        });
        connections.set(i, c);
      }
      return c.send(args);
    },
    async close() {
      for (const c of connections.values()) c.destroy();
      await Promise.all(nodes.map((n) => n.close({ leave: false })));
      await coordinator.close();
    },
  };
}
