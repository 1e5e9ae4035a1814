import { SimpleString } from '@kv/protocol';
import type { KvNode } from './node';
import { startCluster, waitFor, type TestCluster } from './test-support/cluster';

// The Redis key commands over real replication: three nodes, every key on all three.
let cluster: TestCluster;

beforeAll(async () => {
  cluster = await startCluster(3);
});

afterAll(async () => {
  await cluster.close();
});

/** Each node's copy of `key`: its value, version and expiry. */
const copies = (key: string): unknown[] =>
  cluster.nodes.map((n) => {
    const record = n.store.read(Buffer.from(key));
    return (
      record && { value: record.value?.toString(), ts: record.ts, expiresAt: record.expiresAt }
    );
  });

describe('Redis key commands in a cluster', () => {
  it('EXPIRE and PERSIST write one new version with the expiry onto every replica', async () => {
    await cluster.send(0, ['SET', 'session', 'x', 'W', '3']);
    const [written] = copies('session') as { ts: number }[];
    const before = Date.now();
    expect(await cluster.send(1, ['EXPIRE', 'session', '100', 'W', '3'])).toBe(1);
    const after = Date.now();
    const expired = copies('session') as { value: string; ts: number; expiresAt: number }[];
    expect(new Set(expired.map((c) => JSON.stringify(c))).size).toBe(1);
    expect(expired[0]?.value).toBe('x');
    expect(expired[0]?.ts).toBeGreaterThan(written?.ts ?? Infinity);
    expect(expired[0]?.expiresAt).toBeGreaterThanOrEqual(before + 100_000);
    expect(expired[0]?.expiresAt).toBeLessThanOrEqual(after + 100_000);
    for (let i = 0; i < 3; i++) {
      const pttl = (await cluster.send(i, ['PTTL', 'session'])) as number;
      expect(pttl).toBeGreaterThan(0);
      expect(pttl).toBeLessThanOrEqual(100_000);
    }
    expect(await cluster.send(2, ['PERSIST', 'session', 'W', '3'])).toBe(1);
    expect(new Set(copies('session').map((c) => JSON.stringify(c))).size).toBe(1);
    for (let i = 0; i < 3; i++) expect(await cluster.send(i, ['TTL', 'session'])).toBe(-1);
    expect(await cluster.send(0, ['EXPIRE', 'session', '-1'])).toBe(1);
    for (let i = 0; i < 3; i++) expect(await cluster.send(i, ['TTL', 'session'])).toBe(-2);
  });

  it('SET NX sees a write acknowledged by the other replicas that its own node missed', async () => {
    await cluster.send(0, ['SET', 'taken', 'first', 'W', '3']);
    // Node 0's copy is gone, as if it had missed the write: a read of its copy alone
    // would find the key free.
    await (cluster.nodes[0] as KvNode).store.remove(Buffer.from('taken'));
    expect(await cluster.send(0, ['SET', 'taken', 'second', 'NX'])).toBeNull();
    for (let i = 1; i < 3; i++)
      expect(String(await cluster.send(i, ['GET', 'taken']))).toBe('first');
    expect(await cluster.send(0, ['SET', 'free', 'v', 'NX'])).toEqual(new SimpleString('OK'));
    expect(await cluster.send(1, ['SET', 'free', 'w', 'NX'])).toBeNull();
    expect(await cluster.send(2, ['SET', 'free', 'w', 'XX', 'W', '3'])).toEqual(
      new SimpleString('OK'),
    );
    expect(copies('free').map((c) => (c as { value: string }).value)).toEqual(['w', 'w', 'w']);
  });

  it('MSET writes keys of every owner through one node, MGET reads them through another', async () => {
    const pairs = Array.from({ length: 40 }, (_, i) => [`multi:${i}`, `value ${i}`]);
    expect(await cluster.send(0, ['MSET', ...pairs.flat()])).toEqual(new SimpleString('OK'));
    const primaries = new Set(pairs.map(([k]) => cluster.nodes[0]?.ring?.primary(k as string)));
    expect(primaries.size).toBe(3);
    const reply = (await cluster.send(2, [
      'MGET',
      ...pairs.map(([k]) => k as string),
      'nothing:here',
    ])) as (Buffer | null)[];
    expect(reply.map((v) => v?.toString() ?? null)).toEqual([...pairs.map(([, v]) => v), null]);
    await waitFor(() => pairs.every(([k]) => copies(k as string).every((c) => c !== undefined)));
  });
});
