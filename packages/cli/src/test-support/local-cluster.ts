import { createServer } from 'node:net';
// The kv binary loads the servers lazily so data commands start fast; tests start them
// in-process, which the lazy-load boundary rule does not foresee.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { startCoordinator, type Coordinator } from '@kv/coordinator';
// eslint-disable-next-line @nx/enforce-module-boundaries
import { startNode, type KvNode } from '@kv/node';
import { waitFor } from './wait-for';

/** A coordinator and storage nodes in this process, on free loopback ports. */
export interface TestCluster {
  readonly coordinator: Coordinator;
  /** `127.0.0.1:<port>` of the coordinator. */
  readonly address: string;
  readonly nodes: KvNode[];
  close(): Promise<void>;
}

/**
 * Starts a coordinator and `size` nodes with fast heartbeats, and waits until every node
 * routes with the full ring. Dead nodes stay in the ring for 10 s, long enough for tests
 * of what clients see while a node is down.
 */
export async function startTestCluster(size: number): Promise<TestCluster> {
  const coordinator = await startCoordinator({
    host: '127.0.0.1',
    port: 0,
    heartbeatIntervalMs: 50,
    failureTimeoutMs: 10_000,
    silent: true,
  });
  const nodes: KvNode[] = [];
  try {
    for (let i = 0; i < size; i++) {
      nodes.push(
        await startNode({
          host: '127.0.0.1',
          port: 0,
          coordinator: `127.0.0.1:${coordinator.port}`,
          heartbeatIntervalMs: 50,
          replicaTimeoutMs: 500,
          silent: true,
        }),
      );
    }
    await waitFor(() => nodes.every((n) => n.ring?.size === size), 'every node to see the ring');
  } catch (err) {
    await Promise.all(nodes.map((n) => n.close({ leave: false })));
    await coordinator.close();
    throw err;
  }
  return {
    coordinator,
    address: `127.0.0.1:${coordinator.port}`,
    nodes,
    async close() {
      await Promise.all(nodes.map((n) => n.close({ leave: false }).catch(() => undefined)));
      await coordinator.close();
    },
  };
}

/** A loopback port nothing listens on (it was free a moment ago). */
export function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
