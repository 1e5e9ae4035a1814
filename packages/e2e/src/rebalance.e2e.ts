import { Ring } from '@kv/ring';
import { openClient } from './harness/clients';
import { Cluster, type ClusterNode } from './harness/cluster';
import { coordinatorLog } from './harness/log-lines';
import { MARGIN_MS } from './harness/margin';
import { fetchLocal, infoNumber, ringOf, scanKeys } from './harness/resp';
import { sleep, waitFor } from './harness/wait';

const KEYS = 10_000;
const FAILURE_TIMEOUT_MS = 2000;
/**
 * How long re-replication may take after the coordinator removes a node: the nodes learn
 * the epoch within a heartbeat, start a sync round one heartbeat later and copy 10,000 small
 * records; docs/architecture.md states the same bound (failure timeout + two heartbeats +
 * transfer time). Generous, for a loaded 2-core machine.
 */
const SETTLE_MS = 30_000;

const keyOf = (i: number): string => `key:${i}`;
const valueOf = (key: string): string => `value of ${key}`;

async function load(cluster: Cluster, count = KEYS): Promise<string[]> {
  const client = openClient({ coordinator: cluster.coordinatorAddress });
  const keys = Array.from({ length: count }, (_, i) => keyOf(i));
  for (let i = 0; i < keys.length; i += 500) {
    await Promise.all(keys.slice(i, i + 500).map((k) => client.put(k, valueOf(k))));
  }
  return keys;
}

/** The coordinator's current ring (the one reads are routed by). */
async function currentRing(cluster: Cluster): Promise<Ring> {
  return Ring.fromJSON(JSON.parse((await ringOf(cluster.coordinatorPort)).json) as unknown);
}

/** For each key, the nodes whose own data (SCAN) holds it, sorted. */
async function holders(nodes: readonly ClusterNode[]): Promise<Map<string, string[]>> {
  const byKey = new Map<string, string[]>();
  for (const node of nodes) {
    for (const key of await scanKeys(node.port)) {
      let list = byKey.get(key);
      if (!list) byKey.set(key, (list = []));
      list.push(node.id);
    }
  }
  for (const list of byKey.values()) list.sort();
  return byKey;
}

/** Waits until every key is held by exactly the nodes of its preference list, no more. */
async function expectPlacedExactly(cluster: Cluster, keys: readonly string[]): Promise<void> {
  await waitFor(
    'every key held by exactly its preference list',
    async () => {
      const ring = await currentRing(cluster);
      const held = await holders(cluster.runningNodes());
      const wrong = keys.filter(
        (k) => (held.get(k) ?? []).join() !== [...ring.preferenceList(k)].sort().join(),
      );
      if (wrong.length > 0) {
        const k = wrong[0] as string;
        throw new Error(
          `${wrong.length} key(s) misplaced, e.g. ${k} on [${(held.get(k) ?? []).join(', ')}], preference list [${ring.preferenceList(k).join(', ')}]`,
        );
      }
      return true;
    },
    { timeoutMs: SETTLE_MS, intervalMs: 1000 },
  );
}

/** Waits until every key has three copies among the running nodes. */
async function expectThreeCopies(cluster: Cluster, keys: readonly string[]): Promise<void> {
  await waitFor(
    'every key back to three copies',
    async () => {
      const held = await holders(cluster.runningNodes());
      const short = keys.filter((k) => (held.get(k)?.length ?? 0) < 3);
      if (short.length > 0)
        throw new Error(
          `${short.length} key(s) with fewer than 3 copies, e.g. ${short[0]} on [${(held.get(short[0] as string) ?? []).join(', ')}]`,
        );
      return true;
    },
    { timeoutMs: SETTLE_MS, intervalMs: 1000 },
  );
}

async function sum(nodes: readonly ClusterNode[], field: string): Promise<number> {
  let total = 0;
  for (const node of nodes) total += await infoNumber(node.port, field);
  return total;
}

describe('data follows the ring (10,000 keys)', () => {
  it('a fourth node joins without a read ever missing, and only the keys it gains move', async () => {
    const cluster = await Cluster.start({ nodes: 3, failureTimeoutMs: 10_000 });
    const keys = await load(cluster);
    const reader = openClient({ coordinator: cluster.coordinatorAddress, refreshIntervalMs: 200 });
    const misses: string[] = [];
    let reads = 0;
    let reading = true;
    const readLoop = (async () => {
      while (reading) {
        for (let i = 0; i < keys.length && reading; i += 200) {
          const batch = keys.slice(i, i + 200);
          const values = await Promise.all(batch.map((k) => reader.getString(k)));
          values.forEach((v, j) => {
            if (v !== valueOf(batch[j] as string)) misses.push(`${batch[j]} read ${v}`);
          });
          reads += batch.length;
        }
      }
    })();
    const joined = await cluster.addNode(SETTLE_MS);
    await expectPlacedExactly(cluster, keys);
    reading = false;
    await readLoop;
    expect(reads).toBeGreaterThan(KEYS);
    expect(misses.slice(0, 5)).toEqual([]);

    const ring = await currentRing(cluster);
    const gained = keys.filter((k) => ring.preferenceList(k).includes(joined.id)).length;
    const moved = await sum(cluster.runningNodes(), 'keys_received');
    expect(await infoNumber(joined.port, 'keys_received')).toBeGreaterThanOrEqual(gained * 0.9);
    expect(moved).toBeLessThanOrEqual(gained * 1.2);
  });

  it('after one of four nodes dies, every key is back on three live nodes', async () => {
    const cluster = await Cluster.start({ nodes: 4, failureTimeoutMs: FAILURE_TIMEOUT_MS });
    const keys = await load(cluster);
    const dead = cluster.node(3);
    const from = cluster.coordinator.mark;
    await dead.process.kill();
    await cluster.coordinator.waitForLine(
      coordinatorLog.dead(dead.id),
      FAILURE_TIMEOUT_MS + MARGIN_MS,
      from,
    );
    await expectThreeCopies(cluster, keys);
    await expectPlacedExactly(cluster, keys);
  });

  it('after a graceful leave (SIGTERM), every acknowledged key still has three copies', async () => {
    const cluster = await Cluster.start({ nodes: 4, failureTimeoutMs: 10_000 });
    const keys = await load(cluster);
    await cluster.node(1).process.terminate(60_000);
    // The hand-off completes before the node unregisters: no waiting for anti-entropy.
    const held = await holders(cluster.runningNodes());
    const short = keys.filter((k) => (held.get(k)?.length ?? 0) < 3);
    expect(short.slice(0, 5)).toEqual([]);
  });

  it('a node paused while writes go on gets its hinted writes and ends equal to its peers', async () => {
    const cluster = await Cluster.start({ nodes: 3, failureTimeoutMs: 8000 });
    const keys = await load(cluster, 1000);
    const paused = cluster.node(2);
    const writer = openClient({ coordinator: cluster.coordinatorAddress, requestTimeoutMs: 3000 });
    paused.process.pause();
    const updated = keys.slice(0, 300);
    await Promise.all(updated.map((k) => writer.put(k, `new ${k}`)));
    expect(await sum(cluster.runningNodes().slice(0, 2), 'hints_pending')).toBeGreaterThan(0);
    await sleep(1000);
    paused.process.resume();
    await waitFor(
      'every hint delivered',
      async () => ((await sum(cluster.nodes, 'hints_pending')) === 0 ? true : undefined),
      { timeoutMs: SETTLE_MS, intervalMs: 200 },
    );
    expect(await sum(cluster.nodes, 'hints_delivered')).toBeGreaterThanOrEqual(updated.length);
    for (const key of keys) {
      const copies = await Promise.all(cluster.nodes.map((n) => fetchLocal(n.port, key)));
      const versions = new Set(copies.map((c) => `${c?.ts}/${c?.origin}/${c?.value}`));
      expect(versions.size === 1 ? key : `${key}: ${[...versions].join(' | ')}`).toBe(key);
    }
  });

  it('a node wiped while down and restarted at its address gets its data back', async () => {
    const cluster = await Cluster.start({ nodes: 3, failureTimeoutMs: 10_000 });
    const keys = await load(cluster, 2000);
    const wiped = cluster.node(0);
    // Data lives in memory: a restarted process starts empty, as after a wiped disk.
    await wiped.process.kill();
    wiped.process.start();
    await cluster.waitForMembers(
      cluster.nodes.map((n) => n.id),
      SETTLE_MS,
    );
    const own = new Set(await scanKeys(wiped.port));
    expect(keys.filter((k) => !own.has(k)).slice(0, 5)).toEqual([]);
  });
});
