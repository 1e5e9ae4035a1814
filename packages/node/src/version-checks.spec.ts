import { ReplyError, type CommandArg, type ConnectionPool, type RespValue } from '@kv/protocol';
import { ClockRangeError, HybridLogicalClock, LOGICAL_BITS, MAX_TIMESTAMP, wallOf } from './hlc';
import { MemoryEngine } from './memory-engine';
import type { KvNode } from './node';
import { PeerClient } from './peer-client';
import type { StoredRecord } from './record';
import { Replicas } from './replica';
import { decodeRecord } from './replication';
import { FutureVersionError, Store } from './store';
import { infoFields, startCluster, waitFor, type TestCluster } from './test-support/cluster';

const WALL_MS = 1_700_000_000_000;
const stamp = (ms: number): number => ms * 2 ** LOGICAL_BITS;
const key = Buffer.from('k');

const record = (ts: number, value: string | null = 'v', expiresAt = 0): StoredRecord => ({
  value: value === null ? null : Buffer.from(value),
  ts,
  origin: '127.0.0.1:9',
  expiresAt,
});

describe('the hybrid clock near the end of its range', () => {
  it('adopts nothing past MAX_TIMESTAMP, even without a bound, so its next stamps stay exact', () => {
    const clock = new HybridLogicalClock(() => WALL_MS);
    for (const ts of [Number.MAX_SAFE_INTEGER, 2 ** 53, MAX_TIMESTAMP + 1, Infinity, -5, 1.5])
      clock.observe(ts);
    expect(wallOf(clock.now())).toBe(WALL_MS);
    clock.observe(MAX_TIMESTAMP);
    for (let i = 1; i <= 1000; i++) expect(clock.now()).toBe(MAX_TIMESTAMP + i);
    expect(Number.isSafeInteger(clock.peek())).toBe(true);
  });

  it('refuses to stamp when the wall clock reads past what a stamp can hold, and stays usable', () => {
    let wall = 2 ** 53 / 2 ** LOGICAL_BITS;
    const clock = new HybridLogicalClock(() => wall);
    expect(() => clock.now()).toThrow(ClockRangeError);
    expect(() => clock.now()).toThrow(/^CLOCKSKEW this node's clock reads \d+ ms since the epoch/);
    expect(clock.peek()).toBe(0);
    wall = WALL_MS;
    expect(wallOf(clock.now())).toBe(WALL_MS);
  });
});

describe('versions entering a store', () => {
  function store(onRefused = (): void => undefined): { store: Store; clock: HybridLogicalClock } {
    const clock = new HybridLogicalClock(() => WALL_MS, 500);
    return { store: new Store(new MemoryEngine(), clock, () => WALL_MS, onRefused), clock };
  }

  it.each([
    ['2 minutes ahead', stamp(WALL_MS + 120_000)],
    ['at MAX_TIMESTAMP', MAX_TIMESTAMP],
    ['at 2^53 - 1', Number.MAX_SAFE_INTEGER],
    ['not an integer', stamp(WALL_MS) + 0.5],
    ['negative', -1],
  ])('refuses a version %s, counts it and leaves the clock alone', (_name, ts) => {
    let refused = 0;
    const { store: s, clock } = store(() => refused++);
    const before = clock.peek();
    expect(() => s.apply(key, record(ts))).toThrow(FutureVersionError);
    expect(() => s.checkVersion(ts)).toThrow(/^CLOCKSKEW version .* this node's clock/);
    expect(refused).toBe(2);
    expect(s.read(key)).toBeUndefined();
    expect(clock.peek()).toBe(before);
    expect(wallOf(clock.now())).toBe(WALL_MS);
  });

  it.each([-1, 2 ** 48, 1.5, Number.NaN])('refuses an expiry of %d as arguments', (expiresAt) => {
    const { store: s } = store();
    expect(() => s.apply(key, record(stamp(WALL_MS), 'v', expiresAt))).toThrow(/^WRONGARGS expiry/);
    expect(s.read(key)).toBeUndefined();
  });

  it('hands an expired record to peers without its value, and a live one whole', async () => {
    const { store: s } = store();
    await s.apply(Buffer.from('gone'), record(stamp(WALL_MS - 10), 'secret', WALL_MS - 1));
    await s.apply(Buffer.from('live'), record(stamp(WALL_MS - 10), 'here', WALL_MS + 1000));
    await s.apply(Buffer.from('deleted'), record(stamp(WALL_MS - 10), null));
    expect(s.forPeer(Buffer.from('gone'))).toEqual({
      ...record(stamp(WALL_MS - 10), null, WALL_MS - 1),
    });
    expect(s.forPeer(Buffer.from('live'))?.value?.toString()).toBe('here');
    expect(s.forPeer(Buffer.from('deleted'))?.value).toBeNull();
    expect(s.forPeer(Buffer.from('missing'))).toBeUndefined();
  });
});

describe('versions a peer answers with', () => {
  it.each<[string, RespValue]>([
    ['a timestamp past 2^53', [2n ** 60n, Buffer.from('a:1'), 0, Buffer.from('v')]],
    ['a negative timestamp', [-1, Buffer.from('a:1'), 0, Buffer.from('v')]],
    ['a timestamp as text', [Buffer.from('12'), Buffer.from('a:1'), 0, Buffer.from('v')]],
    ['an expiry past what a record holds', [1, Buffer.from('a:1'), 2 ** 48, Buffer.from('v')]],
  ])('are malformed when they carry %s', (_name, reply) => {
    expect(() => decodeRecord(reply)).toThrow(/^ERR malformed FETCH reply/);
  });

  it('refuses a record from the future that a replica answers a read with, and counts it', async () => {
    let refused = 0;
    const clock = new HybridLogicalClock(() => WALL_MS, 500);
    const local = new Store(
      new MemoryEngine(),
      clock,
      () => WALL_MS,
      () => refused++,
    );
    const poisoned = record(stamp(WALL_MS + 3_600_000));
    const pool = {
      send: (_id: string, args: CommandArg[]): Promise<RespValue> =>
        Promise.resolve(
          args[0] === 'FETCH'
            ? [poisoned.ts, Buffer.from(poisoned.origin), 0, Buffer.from('v')]
            : null,
        ),
      isAvailable: () => true,
    } as unknown as ConnectionPool;
    const replicas = new Replicas('127.0.0.1:1', local, new PeerClient(pool), clock);
    const err = await Promise.resolve(replicas.of('127.0.0.1:2').fetch(key)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ReplyError);
    expect((err as ReplyError).code).toBe('CLOCKSKEW');
    expect(refused).toBe(1);
    expect(wallOf(clock.now())).toBe(WALL_MS);
  });
});

describe('a cluster with a member holding versions from the future', () => {
  let cluster: TestCluster | undefined;

  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
  });

  it('never takes them in, by sync or read, and its clocks stay on time', async () => {
    // A member whose data was written by a clock far ahead (or forged): as it would come
    // back after a restart, with the records already in its engine.
    const engine = new MemoryEngine();
    const now = Date.now();
    engine.put(Buffer.from('hour'), record(stamp(now + 3_600_000), 'poison'));
    engine.put(Buffer.from('max'), record(MAX_TIMESTAMP, 'poison'));
    engine.put(Buffer.from('edge'), record(Number.MAX_SAFE_INTEGER, 'poison'));
    const c = (cluster = await startCluster(2, { antiEntropyIntervalMs: 100 }));
    await c.addNode({ engine });
    await waitFor(() => c.nodes.every((n) => n.ring?.size === 3 && n.placement?.settled));
    const healthy = c.nodes.slice(0, 2) as KvNode[];

    // Sync rounds pull from it: every poisoned record is refused, round after round.
    await waitFor(async () => Number((await infoFields(c, 0)).versions_refused) >= 3);
    await waitFor(async () => Number((await infoFields(c, 1)).versions_refused) >= 3);

    // Sent directly, such versions are refused too: as too far ahead while they are exact
    // integers, as malformed past 2^53.
    for (const [ts, code] of [
      [String(MAX_TIMESTAMP), 'CLOCKSKEW'],
      [String(Number.MAX_SAFE_INTEGER), 'CLOCKSKEW'],
      ['9007199254740992', 'WRONGARGS'],
      ['1152921504606846976', 'WRONGARGS'],
    ] as const)
      await expect(c.send(0, ['REPLICATE', 'direct', ts, '127.0.0.1:9', 0, 'x'])).rejects.toThrow(
        new RegExp(`^${code} `),
      );
    expect(healthy[0]?.store.read(Buffer.from('direct'))).toBeUndefined();

    for (const k of ['hour', 'max', 'edge']) {
      // A read that needs its answer fails rather than serve (or repair) the poison.
      // (It fails as soon as R=3 cannot be met, whether or not the third answered yet.)
      await expect(c.send(0, ['GET', k, 'R', '3'])).rejects.toThrow(
        /^UNAVAILABLE [0-2] of 3 replicas answered$/,
      );
      const before = Date.now();
      // Writes go on, stamped by clocks that did not move: on time, not an hour ahead.
      await c.send(1, ['PUT', k, 'fresh']);
      for (const node of healthy) {
        const held = node.store.read(Buffer.from(k));
        expect(held?.value?.toString()).toBe('fresh');
        expect(wallOf(held?.ts ?? 0) - before).toBeLessThan(60_000);
      }
    }
  });
});
