import { OK, ReplyError } from '@kv/protocol';
import { LOGICAL_BITS } from './hlc';
import type { KvNode } from './node';
import { infoFields, startCluster, waitFor, type TestCluster } from './test-support/cluster';

let cluster: TestCluster | undefined;

afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

function replicationInfo(c: TestCluster, i: number): Promise<Record<string, string>> {
  return infoFields(c, i, 'replication');
}

async function refusal(promise: Promise<unknown>): Promise<ReplyError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ReplyError)) throw new Error(`expected a ReplyError, got ${String(err)}`);
  return err;
}

/** A record version `aheadMs` past the real wall clock. */
const stampAhead = (aheadMs: number): number => (Date.now() + aheadMs) * 2 ** LOGICAL_BITS;

describe('a node whose clock is out of bounds', () => {
  for (const skewMs of [120_000, 2_000]) {
    it(`is fenced at +${skewMs / 1000} s: stamps nothing, acknowledges nothing, says so; the others go on`, async () => {
      const c = (cluster = await startCluster(2));
      const skewed = await c.addNode({ wallClock: () => Date.now() + skewMs });
      await waitFor(() => c.nodes.every((n) => n.ring?.size === 3));
      await waitFor(async () => (await replicationInfo(c, 2)).clock_fenced === '1');
      const info = await replicationInfo(c, 2);
      expect(Math.abs(Number(info.clock_offset_ms) - skewMs)).toBeLessThan(250);
      expect(info.max_clock_offset_ms).toBe('500');

      // It coordinates no write.
      const own = await refusal(c.send(2, ['PUT', 'k', 'future']));
      expect(own.code).toBe('UNAVAILABLE');
      expect(own.message).toMatch(
        /this node's clock is \+\d+ ms off the cluster's \(bound 500 ms\)/,
      );

      // It acknowledges no replica write: W=3 cannot be met, W=2 is, without it.
      const all = await refusal(c.send(0, ['PUT', 'k', 'v', 'W', '3']));
      // Its refusal says why.
      expect(all.message).toMatch(
        /^UNAVAILABLE 2 of 3 replicas acknowledged \(127\.0\.0\.1:\d+ refused: this replica's clock is \+\d+ ms off the cluster's \(bound 500 ms\)\)$/,
      );
      expect(await c.send(0, ['PUT', 'k2', 'v2'])).toEqual(OK);
      // No version anywhere was stamped by it (sync may copy others' versions to it).
      for (const node of c.nodes)
        for (const key of ['k', 'k2'])
          expect(node.store.read(Buffer.from(key))?.origin).not.toBe(skewed.id);
      expect(Number((await replicationInfo(c, 2)).writes_fenced)).toBeGreaterThanOrEqual(2);

      // The healthy nodes are not fenced by the one member they disagree with.
      for (const i of [0, 1]) expect((await replicationInfo(c, i)).clock_fenced).toBe('0');
    });
  }

  it('is not read alone: R=1 reads through healthy nodes find writes it refused', async () => {
    const c = (cluster = await startCluster(3));
    const skewed = await c.addNode({ wallClock: () => Date.now() + 120_000 });
    await waitFor(() => c.nodes.every((n) => n.ring?.size === 4));
    await waitFor(async () => (await replicationInfo(c, 3)).clock_fenced === '1');
    const via = c.nodes[0] as KvNode;
    // Keys the fenced node is the first replica of, and the node read through is not one of.
    const keys = Array.from({ length: 400 }, (_, i) => `fenced-first:${i}`)
      .filter((k) => {
        const owners = via.ring?.preferenceList(k) ?? [];
        return owners[0] === skewed.id && !owners.includes(via.id);
      })
      .slice(0, 5);
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      expect(await c.send(0, ['PUT', key, 'acknowledged'])).toEqual(OK);
      expect(skewed.store.read(Buffer.from(key))).toBeUndefined();
      expect(String(await c.send(0, ['GET', key]))).toBe('acknowledged');
      // Asked alone, it says its copy may lack writes.
      const alone = (await c.send(3, ['FETCH', key, 'ALONE'])) as unknown[];
      expect(alone[0]).toBe(0);
      // Read repair and R=2 still get its copy without the flag (a sync round may have
      // copied the key to it meanwhile: it refuses stamping and acknowledging, not syncing).
      const copy = await c.send(3, ['FETCH', key]);
      expect(copy === null || Array.isArray(copy)).toBe(true);
    }
    const rebalance = String(await c.send(3, ['INFO', 'rebalance']));
    expect(rebalance).toContain(`stale_read_answers:${keys.length * 2}`);
  });

  it('is refused by a healthy replica when it sends a version from the future, whatever the path', async () => {
    const c = (cluster = await startCluster(1, { writeQuorum: 1 }));
    const node = c.nodes[0] as KvNode;
    const before = Date.now();
    for (const ahead of [120_000, 1_000]) {
      const err = await refusal(
        c.send(0, ['REPLICATE', 'poison', stampAhead(ahead), '127.0.0.1:1', 0, 'x']),
      );
      expect(err.code).toBe('CLOCKSKEW');
      expect(err.message).toMatch(/ms ahead of this node's clock \(bound 500 ms\): not stored$/);
    }
    const overflow = await refusal(
      c.send(0, ['REPLICATE', 'poison', Number.MAX_SAFE_INTEGER, '127.0.0.1:1', 0, 'x']),
    );
    expect(overflow.code).toBe('CLOCKSKEW');
    expect(node.store.read(Buffer.from('poison'))).toBeUndefined();
    expect((await replicationInfo(c, 0)).versions_refused).toBe('3');

    // Within the bound is fine, and the clock did not jump: a new write stamps near now.
    expect(await c.send(0, ['REPLICATE', 'near', stampAhead(100), '127.0.0.1:1', 0, 'x'])).toEqual(
      expect.arrayContaining([1]),
    );
    expect(await c.send(0, ['PUT', 'fresh', 'v'])).toEqual(OK);
    const stamped = node.store.read(Buffer.from('fresh'))?.ts ?? 0;
    expect(stamped / 2 ** LOGICAL_BITS - before).toBeLessThan(60_000);
  });
});
