import { openClient } from '../harness/clients';
import { Cluster } from '../harness/cluster';
import { coordinatorLog } from '../harness/log-lines';
import { MARGIN_MS } from '../harness/margin';
import { fetchLocal, nodesForKey } from '../harness/resp';
import { waitFor } from '../harness/wait';

// With four nodes and three replicas per key, a node leaving or dying hands some of its
// keys to a node that held no copy. The design has data follow the ring: keys are streamed
// to their new owners and the replication factor is restored. These tests give that
// (throttled) streaming this long to finish.
const SETTLE_MS = 15_000;
const KEYS = 100;

/**
 * Waits until every key's current preference list (from the coordinator) holds the value
 * on each of its nodes, as each node's own FETCH shows; the timeout message lists what is
 * still missing.
 */
async function expectReplicated(
  cluster: Cluster,
  values: ReadonlyMap<string, string>,
): Promise<void> {
  await waitFor(
    `every key to be held by each node of its preference list`,
    async () => {
      const missing: string[] = [];
      for (const [key, value] of values) {
        for (const id of await nodesForKey(cluster.coordinatorPort, key)) {
          const copy = await fetchLocal(cluster.node(id).port, key);
          if (copy?.value !== value) missing.push(`${key} on ${id}`);
        }
      }
      if (missing.length > 0) {
        throw new Error(`${missing.length} copies missing, e.g. ${missing.slice(0, 5).join(', ')}`);
      }
      return true;
    },
    { timeoutMs: SETTLE_MS, intervalMs: 500 },
  );
}

async function writeKeys(cluster: Cluster): Promise<Map<string, string>> {
  const client = openClient({ coordinator: cluster.coordinatorAddress });
  const values = new Map<string, string>();
  for (let i = 0; i < KEYS; i++) {
    await client.put(`key:${i}`, `value ${i}`);
    values.set(`key:${i}`, `value ${i}`);
  }
  return values;
}

describe('data follows the ring', () => {
  it('after a graceful leave, every key is on each node of its new preference list', async () => {
    const cluster = await Cluster.start({ nodes: 4, failureTimeoutMs: 10_000 });
    const values = await writeKeys(cluster);
    const leaving = cluster.node(3);
    await leaving.process.terminate();
    await cluster.waitForMembers(
      cluster.runningNodes().map((n) => n.id),
      10_000,
    );
    await expectReplicated(cluster, values);
  });

  it('after a node dies, the replication factor of every key is restored', async () => {
    const cluster = await Cluster.start({ nodes: 4, failureTimeoutMs: 2000 });
    const values = await writeKeys(cluster);
    const dead = cluster.node(3);
    const from = cluster.coordinator.mark;
    await dead.process.kill();
    await cluster.coordinator.waitForLine(coordinatorLog.dead(dead.id), 2000 + MARGIN_MS, from);
    await cluster.waitForMembers(
      cluster.runningNodes().map((n) => n.id),
      10_000,
    );
    await expectReplicated(cluster, values);
  });

  it('writes made while a node was out of the ring are readable after it rejoins', async () => {
    const cluster = await Cluster.start({ nodes: 3, failureTimeoutMs: 2000 });
    const client = openClient({ coordinator: cluster.coordinatorAddress, requestTimeoutMs: 1000 });
    const away = cluster.node(0);
    const from = cluster.coordinator.mark;
    away.process.pause();
    await cluster.coordinator.waitForLine(coordinatorLog.dead(away.id), 2000 + MARGIN_MS, from);
    await cluster.waitForMembers([cluster.node(1).id, cluster.node(2).id], 10_000);
    // Written to the two members left (W=2 of the two).
    const values = new Map<string, string>();
    for (let i = 0; i < 30; i++) {
      await client.put(`while-away:${i}`, `value ${i}`);
      values.set(`while-away:${i}`, `value ${i}`);
    }
    away.process.resume();
    await cluster.waitForMembers(
      cluster.nodes.map((n) => n.id),
      10_000,
    );
    await client.refreshRing();
    await waitFor(
      'every key written while the node was away to read back through the client',
      async () => {
        const wrong: string[] = [];
        for (const [key, value] of values) {
          const entry = await client.getEntry(key);
          if (entry.value?.toString() !== value)
            wrong.push(`${key} reads ${String(entry.value)} from ${entry.node}`);
        }
        if (wrong.length > 0)
          throw new Error(`${wrong.length} wrong, e.g. ${wrong.slice(0, 5).join(', ')}`);
        return true;
      },
      { timeoutMs: SETTLE_MS, intervalMs: 500 },
    );
  });
});
