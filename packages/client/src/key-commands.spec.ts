import { ReplyError } from '@kv/protocol';
import { createClient, type KvClient } from './client';
import { InvalidClientOptionError, PartialWriteError } from './errors';
import { Ring } from '@kv/ring';
import { MAX_BYTES_PER_REQUEST, MAX_KEYS_PER_REQUEST, batchByPrimary } from './key-batches';
import { LocalCluster } from './test-support/cluster';

let cluster: LocalCluster | undefined;
let client: KvClient | undefined;

afterEach(async () => {
  await client?.close();
  client = undefined;
  await cluster?.close();
  cluster = undefined;
});

async function start(size: number): Promise<KvClient> {
  cluster = await LocalCluster.start(size);
  client = createClient({ coordinator: cluster.address, retryBackoffMs: 10 });
  return client;
}

/** Calls of `command` each node served, by node id. */
async function callsPerNode(command: string): Promise<number[]> {
  const c = cluster as LocalCluster;
  return Promise.all(
    c.nodes.map(async (n) => {
      const field = await c.info(n.id, `cmdstat_${command}`);
      return field === undefined ? 0 : Number(/calls=(\d+)/.exec(field)?.[1]);
    }),
  );
}

describe('KvClient conditional writes and expiry', () => {
  it("writes with putIf only when the key is free ('absent') or taken ('exists')", async () => {
    const c = await start(3);
    expect(await c.putIf('lock:1', 'me', 'absent', { ttlMs: 60_000 })).toBe(true);
    expect(await c.putIf('lock:1', 'you', 'absent')).toBe(false);
    expect(await c.getString('lock:1')).toBe('me');
    expect(await c.putIf('missing', 'v', 'exists')).toBe(false);
    expect(await c.exists('missing')).toBe(false);
    expect(await c.putIf('lock:1', 'still me', 'exists', { keepTtl: true })).toBe(true);
    expect(await c.getString('lock:1')).toBe('still me');
    const left = await c.ttl('lock:1');
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThanOrEqual(60_000);
    await c.put('lock:1', 'kept', { keepTtl: true, writeQuorum: 3 });
    expect(await c.ttl('lock:1')).toBeLessThanOrEqual(left as number);
    await c.put('lock:1', 'plain');
    expect(await c.ttl('lock:1')).toBe(Infinity);
  });

  it('reads and changes expiries', async () => {
    const c = await start(3);
    await c.put('session', 'x');
    expect(await c.ttl('session')).toBe(Infinity);
    expect(await c.ttl('nothing')).toBeNull();
    expect(await c.expire('session', 100_000, { writeQuorum: 3 })).toBe(true);
    const left = await c.ttl('session', { readQuorum: 3 });
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThanOrEqual(100_000);
    expect(await c.persist('session')).toBe(true);
    expect(await c.persist('session')).toBe(false);
    expect(await c.ttl('session')).toBe(Infinity);
    expect(await c.expire('nothing', 1000)).toBe(false);
    expect(await c.getString('session')).toBe('x');
  });

  it('refuses invalid options before sending anything', async () => {
    const c = await start(1);
    const refusals: [Promise<unknown>, string][] = [
      [c.putIf('k', 'v', 'maybe' as 'absent'), "condition must be 'absent' or 'exists', got maybe"],
      [c.put('k', 'v', { keepTtl: true, ttlMs: 5 }), 'keepTtl and ttlMs cannot be given together'],
      [c.expire('k', 0), 'ttlMs must be an integer ≥ 1, got 0'],
      [c.expire('k', 1.5), 'ttlMs must be an integer ≥ 1, got 1.5'],
      [c.persist('k', { writeQuorum: 0 }), 'writeQuorum must be an integer ≥ 1, got 0'],
      [c.mget(['k'], { readQuorum: -1 }), 'readQuorum must be an integer ≥ 1, got -1'],
      [c.mset([['k', 'v']], { writeQuorum: 0.5 }), 'writeQuorum must be an integer ≥ 1, got 0.5'],
    ];
    for (const [refused, message] of refusals) {
      const err = await refused.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidClientOptionError);
      expect((err as Error).message).toBe(message);
    }
    expect(await callsPerNode('put')).toEqual([0]);
  });
});

describe('KvClient multi-key requests', () => {
  it('writes and reads keys of every primary with one request per primary', async () => {
    const c = await start(3);
    const entries = Array.from({ length: 60 }, (_, i) => [`multi:${i}`, `value ${i}`] as const);
    await c.mset(entries);
    const values = await c.mget([...entries.map(([k]) => k), 'absent']);
    expect(values.map((v) => v?.toString() ?? null)).toEqual([...entries.map(([, v]) => v), null]);
    expect(await callsPerNode('mset')).toEqual([1, 1, 1]);
    expect(await callsPerNode('mget')).toEqual([1, 1, 1]);
    expect(await c.mget([])).toEqual([]);
    await c.mset([]);
  });

  it(`splits a primary's keys into requests of at most ${MAX_KEYS_PER_REQUEST}`, async () => {
    const c = await start(1);
    const keys = Array.from({ length: MAX_KEYS_PER_REQUEST + 10 }, (_, i) => `k${i}`);
    const values = await c.mget(keys);
    expect(values).toHaveLength(keys.length);
    expect(values.every((v) => v === null)).toBe(true);
    expect(await callsPerNode('mget')).toEqual([2]);
  });

  it('keeps a key named W: with a quorum, each key goes as PUT or GET of its own', async () => {
    const c = await start(3);
    const entries = [
      ['a', '1'],
      ['W', '2'],
    ] as const;
    await c.mset(entries);
    expect((await c.mget(['a', 'W'])).map((v) => v?.toString())).toEqual(['1', '2']);
    await c.mset(
      [
        ['a', '3'],
        ['W', '4'],
      ],
      { writeQuorum: 3 },
    );
    expect((await c.mget(['a', 'W'], { readQuorum: 3 })).map((v) => v?.toString())).toEqual([
      '3',
      '4',
    ]);
    const total = async (command: string): Promise<number> =>
      (await callsPerNode(command)).reduce((a, b) => a + b, 0);
    // Without a quorum, one MSET and one MGET per primary: the two keys may share one.
    const primaries = new Set(
      await Promise.all(['a', 'W'].map(async (k) => (await c.nodesForKey(k)).primary)),
    ).size;
    expect([await total('mset'), await total('put')]).toEqual([primaries, 2]);
    expect([await total('mget'), await total('get')]).toEqual([primaries, 2]);
  });

  it(`splits a primary's pairs into requests of at most ${MAX_BYTES_PER_REQUEST} bytes`, () => {
    const ring = new Ring(['127.0.0.1:5001']);
    const keys = ['a', 'b', 'c', 'd'];
    const sizes = [
      MAX_BYTES_PER_REQUEST / 2,
      MAX_BYTES_PER_REQUEST / 2,
      1,
      2 * MAX_BYTES_PER_REQUEST,
    ];
    expect(batchByPrimary(ring, keys, (i) => sizes[i] as number)).toEqual([[0, 1], [2], [3]]);
    expect(batchByPrimary(ring, keys)).toEqual([[0, 1, 2, 3]]);
  });

  it('reports which keys failed when some requests fail, the others staying written', async () => {
    const c = await start(3);
    const big = 'x'.repeat(5000);
    const ring = (await c.ring()).ring;
    const entries = Array.from({ length: 30 }, (_, i) => [`part:${i}`, `v${i}`] as const);
    const err = (await c
      .mset([...entries, [big, 'v']])
      .catch((e: unknown) => e)) as PartialWriteError;
    expect(err).toBeInstanceOf(PartialWriteError);
    expect(err.code).toBe('PARTIAL_WRITE');
    // The request carrying the key over the node's limit failed as a whole (TOOLARGE, not
    // retried); those to the other primaries were written.
    const failedKeys = entries
      .filter(([k]) => ring.primary(k) === ring.primary(big))
      .map(([k]) => k);
    expect(err.failures).toHaveLength(1);
    expect(err.failures[0]?.keys).toEqual([...failedKeys, big]);
    expect(err.failures[0]?.error).toBeInstanceOf(ReplyError);
    expect((err.failures[0]?.error as ReplyError).code).toBe('TOOLARGE');
    expect(err.written).toBe(entries.length - failedKeys.length);
    expect(err.message).toMatch(
      new RegExp(`^MSET wrote ${err.written} of 31 keys: TOOLARGE key of 5000 bytes`),
    );
    const values = await c.mget(entries.map(([k]) => k));
    entries.forEach(([k, v], i) =>
      expect(values[i]?.toString() ?? null).toBe(failedKeys.includes(k) ? null : v),
    );
  });
});
