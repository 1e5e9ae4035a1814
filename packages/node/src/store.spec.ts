import { HybridLogicalClock, LOGICAL_BITS } from './hlc';
import { MemoryEngine } from './memory-engine';
import type { StoredRecord } from './record';
import { Store } from './store';

const key = Buffer.from('k');

function setup(now = 1_000_000) {
  const clock = new HybridLogicalClock(() => now);
  let wall = now;
  const store = new Store(new MemoryEngine(), clock, () => wall);
  return { store, clock, advance: (ms: number) => (wall += ms) };
}

const rec = (value: string | null, ts: number, expiresAt = 0): StoredRecord => ({
  value: value === null ? null : Buffer.from(value),
  ts,
  origin: 'n1',
  expiresAt,
});

describe('Store', () => {
  it('applies newer versions, ignores older and duplicate ones, and reports what it held', () => {
    const { store } = setup();
    const held = (applied: boolean, existed: boolean, ts: number) => ({
      applied,
      existed,
      ts,
      origin: 'n1',
    });
    expect(store.apply(key, rec('a', 10))).toEqual(held(true, false, 10));
    expect(store.apply(key, rec('b', 20))).toEqual(held(true, true, 20));
    expect(store.apply(key, rec('old', 15))).toEqual(held(false, true, 20));
    expect(store.apply(key, rec('b', 20))).toEqual(held(false, true, 20));
    expect(store.value(key)?.toString()).toBe('b');
  });

  it('copies values so network buffers can be reused', async () => {
    const { store } = setup();
    const wire = Buffer.from('value');
    await store.apply(key, { ...rec(null, 1), value: wire });
    wire.fill(0);
    expect(store.value(key)?.toString()).toBe('value');
  });

  it('moves the clock past every version it stores', async () => {
    const { store, clock } = setup(5);
    await store.apply(key, rec('future', 99 * 2 ** LOGICAL_BITS));
    expect(clock.now()).toBeGreaterThan(99 * 2 ** LOGICAL_BITS);
  });

  it('hides expired values and purges tombstones and expired records after the grace period', async () => {
    const { store, advance } = setup(1_000_000);
    await store.apply(Buffer.from('ttl'), rec('v', 1, 1_000_500));
    await store.apply(Buffer.from('deleted'), rec(null, 1_000_000 * 2 ** LOGICAL_BITS));
    await store.apply(Buffer.from('kept'), rec('v', 1));
    expect(store.value(Buffer.from('ttl'))?.toString()).toBe('v');
    advance(600);
    expect(store.value(Buffer.from('ttl'))).toBeUndefined();
    expect(store.purge(10_000)).toBe(0);
    advance(10_000);
    expect(store.purge(10_000)).toBe(2);
    expect(store.read(Buffer.from('deleted'))).toBeUndefined();
    expect(store.value(Buffer.from('kept'))?.toString()).toBe('v');
  });

  it('stops a purge pass at a removal its engine refuses, leaving the rest to the next pass', async () => {
    const engine = new MemoryEngine();
    let wall = 1_000_000;
    const store = new Store(engine, new HybridLogicalClock(() => wall), () => wall);
    for (const k of ['a', 'b', 'c'])
      await store.apply(Buffer.from(k), rec(null, wall * 2 ** LOGICAL_BITS));
    wall += 20_000;
    // The engine refuses writes (a failed log): the timer's pass must not throw.
    const remove = jest.spyOn(engine, 'remove').mockImplementation(() => {
      throw new Error('refused');
    });
    expect(store.purge(10_000)).toBe(0);
    expect(store.size).toBe(3);
    remove.mockRestore();
    expect(store.purge(10_000)).toBe(3);
    expect(store.size).toBe(0);
  });
});
