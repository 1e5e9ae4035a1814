import { PendingWrites, type Pending } from './lmdb-pending';

const write = (k: string, value: string | null = 'v'): Pending => ({
  k,
  stored: Buffer.from(k, 'latin1'),
  value: value === null ? undefined : Buffer.from(value),
  record:
    value === null ? undefined : { value: Buffer.from(value), ts: 1, origin: 'n1', expiresAt: 0 },
  committed: undefined,
});
const keys = (found: Pending[]): string[] => found.map((w) => w.k);

describe('PendingWrites', () => {
  it('gives the writes of a stretch of keys in byte order, each bound included or not as asked', () => {
    const pending = new PendingWrites();
    // Latin1 strings compare as their bytes do: 0xff after 'z', a prefix before its extensions.
    for (const k of ['b', '\xff', 'a', 'ab', 'c', 'bz']) pending.set(write(k));
    expect(keys(pending.within(undefined, false, undefined, false))).toEqual([
      'a',
      'ab',
      'b',
      'bz',
      'c',
      '\xff',
    ]);
    expect(keys(pending.within('ab', false, 'c', false))).toEqual(['ab', 'b', 'bz']);
    expect(keys(pending.within('ab', true, 'c', true))).toEqual(['b', 'bz', 'c']);
    expect(keys(pending.within('c', true, undefined, false))).toEqual(['\xff']);
    expect(pending.within('d', false, '\xfe', true)).toEqual([]);
  });

  it('keeps the latest write of a key, counts its bytes once, and settles only that one', () => {
    const pending = new PendingWrites();
    const first = write('k', 'one');
    const second = write('k', 'three');
    pending.set(first);
    pending.set(second);
    expect([pending.size, pending.bytes]).toEqual([1, 1 + 5]);
    // The first is in LMDB now, but a later write replaced it: the later one stays.
    pending.settle(first);
    expect(pending.get('k')).toBe(second);
    pending.settle(second);
    expect([pending.size, pending.bytes, pending.get('k')]).toEqual([0, 0, undefined]);
    // A removal weighs its key alone.
    pending.set(write('gone', null));
    expect([pending.size, pending.bytes]).toEqual([1, 4]);
  });
});
