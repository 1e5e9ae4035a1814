import { startCoordinator, type CoordinatorOptions } from '@kv/coordinator';
import {
  RespConnection,
  handshakeFor,
  type CommandArg,
  type ConnectFactory,
  type RespValue,
} from '@kv/protocol';
import { startNode, type KvNode, type NodeOptions } from '../node';

/** A coordinator and storage nodes started in this process on free loopback ports. */
export interface TestCluster {
  coordinatorPort: number;
  /** The coordinator's HTTP port, when it was given `metricsPort`. */
  coordinatorMetricsPort: number | undefined;
  nodes: KvNode[];
  /**
   * Sends one command to node i over a fresh pipelined connection (kept until close),
   * authenticated as a member when the nodes have a cluster secret.
   */
  send(i: number, args: CommandArg[]): Promise<RespValue>;
  /** Starts one more node. */
  addNode(options?: Partial<NodeOptions>): Promise<KvNode>;
  close(): Promise<void>;
}

/** The `key:value` fields of node i's INFO reply (of one section, when given). */
export async function infoFields(
  c: TestCluster,
  i: number,
  section?: string,
): Promise<Record<string, string>> {
  const text = String(await c.send(i, section === undefined ? ['INFO'] : ['INFO', section]));
  return Object.fromEntries(
    text
      .split('\r\n')
      .filter((line) => line.includes(':'))
      .map((line) => line.split(':', 2) as [string, string]),
  );
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

/** Starts a coordinator and `size` nodes; the coordinator shares the nodes' cluster secret. */
export async function startCluster(
  size: number,
  nodeOptions: Partial<NodeOptions> = {},
  coordinatorOptions: CoordinatorOptions = {},
  /** How `send` connects to the nodes (TLS clusters need a TLS dialler). */
  connect?: ConnectFactory,
): Promise<TestCluster> {
  const coordinator = await startCoordinator({
    host: '127.0.0.1',
    port: 0,
    heartbeatIntervalMs: 50,
    failureTimeoutMs: 10_000,
    clusterSecret: nodeOptions.clusterSecret,
    silent: true,
    ...coordinatorOptions,
  });
  const nodes: KvNode[] = [];
  const connections = new Map<number, RespConnection>();
  const addNode = async (options: Partial<NodeOptions> = {}): Promise<KvNode> => {
    const node = await startNode({
      port: 0,
      coordinator: `127.0.0.1:${coordinator.port}`,
      heartbeatIntervalMs: 50,
      replicaTimeoutMs: 500,
      // Every node of these clusters shares the test's event loop: a busy machine that
      // starves it for a second must not make the writes of tests about other things fail
      // (the deadline has tests of its own).
      writeDeadlineMs: 10_000,
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
          handshake: handshakeFor({ clusterSecret: nodeOptions.clusterSecret }),
          ...(connect && { connect }),
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
