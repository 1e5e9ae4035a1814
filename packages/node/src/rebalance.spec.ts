import { startNode, type KvNode } from './node';
import { Phase } from '@kv/ring';
import { startCluster, waitFor, type TestCluster } from './test-support/cluster';

let cluster: TestCluster | undefined;

afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

const keys = Array.from({ length: 300 }, (_, i) => `user:${i}`);

async function writeAll(c: TestCluster, via = 0, w = 3): Promise<void> {
  await Promise.all(keys.map((k) => c.send(via, ['PUT', k, `v-${k}`, 'W', String(w)])));
}

/** Nodes holding a live copy of `key`. */
function holders(nodes: readonly KvNode[], key: string): string[] {
  return nodes
    .filter((n) => n.store.value(Buffer.from(key)) !== undefined)
    .map((n) => n.id)
    .sort();
}

/** True when every key is held by exactly its preference list in the settled ring. */
function placedExactly(nodes: readonly KvNode[]): boolean {
  const placement = nodes[0]?.placement;
  if (!placement?.settled || !nodes.every((n) => n.placement?.epoch === placement.epoch))
    return false;
  return keys.every(
    (k) => holders(nodes, k).join() === placement.read.preferenceList(k).slice().sort().join(),
  );
}

function info(node: KvNode, c: TestCluster, field: string): Promise<number> {
  const i = c.nodes.indexOf(node);
  return c.send(i, ['INFO', 'rebalance']).then((text) => {
    const line = String(text)
      .split('\r\n')
      .find((l) => l.startsWith(`${field}:`));
    return Number(line?.slice(field.length + 1));
  });
}

describe('data follows the ring', () => {
  it('streams a joining node its ranges while reads keep finding every key', async () => {
    const c = (cluster = await startCluster(3, { antiEntropyIntervalMs: 0 }));
    await writeAll(c);
    let misses = 0;
    let reading = true;
    const reader = (async () => {
      while (reading) {
        const values = await Promise.all(keys.map((k) => c.send(0, ['GET', k])));
        misses += values.filter((v) => v === null).length;
      }
    })();
    const joined = await c.addNode({ antiEntropyIntervalMs: 0 });
    await waitFor(() => joined.placement?.phaseOf(joined.id) === Phase.SERVING);
    await waitFor(() => placedExactly(c.nodes), 30_000);
    reading = false;
    await reader;
    expect(misses).toBe(0);
    const gained = keys.filter((k) => joined.placement?.read.preferenceList(k).includes(joined.id));
    expect(await info(joined, c, 'keys_received')).toBe(gained.length);
    let received = 0;
    for (const n of c.nodes) received += await info(n, c, 'keys_received');
    expect(received).toBeLessThanOrEqual(Math.ceil(gained.length * 1.2));
    expect(await info(c.nodes[0] as KvNode, c, 'keys_dropped')).toBeGreaterThan(0);
  });

  it('brings every key back to three copies after a node dies', async () => {
    const c = (cluster = await startCluster(
      4,
      { antiEntropyIntervalMs: 0 },
      { failureTimeoutMs: 300 },
    ));
    await writeAll(c);
    const dead = c.nodes[3] as KvNode;
    await dead.close({ leave: false });
    const live = c.nodes.slice(0, 3);
    await waitFor(() => live.every((n) => n.ring?.size === 3));
    await waitFor(() => keys.every((k) => holders(live, k).length === 3), 30_000);
  });

  it('hands a leaving node its data to the next owners before it goes', async () => {
    const c = (cluster = await startCluster(4, { antiEntropyIntervalMs: 0 }));
    await writeAll(c);
    const leaving = c.nodes[3] as KvNode;
    await leaving.close({ leave: true });
    const rest = c.nodes.slice(0, 3);
    // Acknowledged writes are all there as soon as the leave completes.
    expect(keys.filter((k) => holders(rest, k).length !== 3)).toEqual([]);
    await waitFor(() => rest.every((n) => n.ring?.size === 3 && n.placement?.settled === true));
  });

  it('delivers writes a restarted replica missed, and it ends up equal to its peers', async () => {
    const c = (cluster = await startCluster(3, { antiEntropyIntervalMs: 0 }));
    const down = c.nodes[2] as KvNode;
    const port = down.port;
    await down.close({ leave: false });
    await writeAll(c, 0, 2);
    expect(await info(c.nodes[0] as KvNode, c, 'hints_pending')).toBeGreaterThan(0);
    const back = await startNode({
      port,
      coordinator: `127.0.0.1:${c.coordinatorPort}`,
      heartbeatIntervalMs: 50,
      silent: true,
      antiEntropyIntervalMs: 0,
    });
    c.nodes[2] = back;
    await waitFor(() => back.placement?.phaseOf(back.id) === Phase.SERVING);
    await waitFor(async () => (await info(c.nodes[0] as KvNode, c, 'hints_pending')) === 0);
    expect(await info(c.nodes[0] as KvNode, c, 'hints_delivered')).toBeGreaterThan(0);
    expect(keys.filter((k) => back.store.value(Buffer.from(k)) === undefined)).toEqual([]);
  });

  it('repairs a replica that diverged, on the anti-entropy interval', async () => {
    const c = (cluster = await startCluster(3, { antiEntropyIntervalMs: 100 }));
    await writeAll(c);
    const victim = c.nodes[1] as KvNode;
    for (const k of keys.slice(0, 50)) await victim.store.remove(Buffer.from(k));
    await waitFor(() => keys.every((k) => victim.store.value(Buffer.from(k)) !== undefined));
    expect(await info(victim, c, 'keys_received')).toBeGreaterThanOrEqual(50);
  });
});

describe('reads after a node dies', () => {
  it('never miss an acknowledged write through any survivor while owners change', async () => {
    const c = (cluster = await startCluster(
      4,
      { antiEntropyIntervalMs: 0 },
      { failureTimeoutMs: 300 },
    ));
    await writeAll(c, 0, 2);
    const dead = c.nodes[3] as KvNode;
    const epoch = dead.placement?.epoch ?? 0;
    await dead.close({ leave: false });
    const live = c.nodes.slice(0, 3);
    const missed: string[] = [];
    const readAll = async (): Promise<void> => {
      for (let i = 0; i < live.length; i++) {
        const values = await Promise.all(keys.map((k) => c.send(i, ['GET', k])));
        values.forEach((v, j) => v === null && missed.push(`${keys[j]} via ${live[i]?.id}`));
      }
    };
    // From the death, through the ring change, until every survivor synced what it gained.
    const until = Date.now() + 20_000;
    let unsynced = 0;
    for (;;) {
      await readAll();
      const changed = live.every((n) => (n.placement?.epoch ?? 0) > epoch && n.ring?.size === 3);
      unsynced = 0;
      for (const n of live) unsynced += await info(n, c, 'unsynced_ranges');
      if ((changed && unsynced === 0) || Date.now() > until) break;
    }
    expect(missed).toEqual([]);
    expect(unsynced).toBe(0);
    let asked = 0;
    for (const n of live) asked += await info(n, c, 'unsynced_reads');
    expect(asked).toBeGreaterThan(0);
  });
});

describe('SCAN and DBSIZE', () => {
  it('walk the node’s own live keys', async () => {
    const c = (cluster = await startCluster(1, { writeQuorum: 1 }));
    await Promise.all(keys.slice(0, 40).map((k) => c.send(0, ['PUT', k, 'v'])));
    await c.send(0, ['DEL', 'user:0']);
    expect(await c.send(0, ['DBSIZE'])).toBe(39);
    const seen: string[] = [];
    let cursor = '0';
    do {
      const [next, found] = (await c.send(0, ['SCAN', cursor, 'COUNT', '7'])) as [Buffer, Buffer[]];
      seen.push(...found.map(String));
      cursor = String(next);
    } while (cursor !== '0');
    expect(seen.sort()).toEqual(keys.slice(1, 40).sort());
    const [, matched] = (await c.send(0, ['SCAN', '0', 'MATCH', 'user:1?', 'COUNT', '1000'])) as [
      Buffer,
      Buffer[],
    ];
    expect(matched.map(String).sort()).toEqual(keys.slice(10, 20).sort());
    await expect(c.send(0, ['SCAN', '99999'])).rejects.toThrow(/unknown or expired cursor/);
    await expect(c.send(0, ['SCAN', 'x'])).rejects.toThrow(/WRONGARGS invalid cursor/);
    await expect(c.send(0, ['SCAN', '0', 'COUNT', '0'])).rejects.toThrow(/WRONGARGS COUNT/);
  });
});

describe('DECOMMISSION', () => {
  it('hands off, leaves and stops the node, once', async () => {
    const c = (cluster = await startCluster(4, { antiEntropyIntervalMs: 0 }));
    await writeAll(c);
    const retiring = c.nodes[3] as KvNode;
    expect(String(await c.send(3, ['DECOMMISSION']))).toBe(
      'OK leaving: handing off data, then stopping',
    );
    await expect(c.send(3, ['DECOMMISSION'])).rejects.toThrow('ERR this node is already stopping');
    await retiring.closed;
    const rest = c.nodes.slice(0, 3);
    expect(keys.filter((k) => holders(rest, k).length !== 3)).toEqual([]);
    await waitFor(() => rest.every((n) => n.ring?.size === 3));
  });
});
