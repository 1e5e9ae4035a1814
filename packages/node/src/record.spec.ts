import fc from 'fast-check';
import { compareVersions, isLive, newest, supersedes, type StoredRecord } from './record';

// A version names exactly one write, so records with equal versions are equal records: the
// content is derived from the version.
const record = fc
  .record({
    ts: fc.integer({ min: 1, max: 1000 }),
    origin: fc.constantFrom('127.0.0.1:5001', '127.0.0.1:5002', '127.0.0.1:5003'),
  })
  .map(({ ts, origin }): StoredRecord => ({
    ts,
    origin,
    expiresAt: [0, 500, 5000][ts % 3] as number,
    value: ts % 4 === 0 ? null : Buffer.from(`${origin}/${ts}`),
  }));

/** Applies records in order with last-writer-wins, as a replica does. */
function merge(records: StoredRecord[]): StoredRecord | undefined {
  let current: StoredRecord | undefined;
  for (const r of records) if (supersedes(r, current)) current = r;
  return current;
}

describe('versions and last-writer-wins', () => {
  it('orders by timestamp, then by origin id', () => {
    expect(compareVersions({ ts: 1, origin: 'b' }, { ts: 2, origin: 'a' })).toBeLessThan(0);
    expect(compareVersions({ ts: 2, origin: 'a' }, { ts: 2, origin: 'b' })).toBeLessThan(0);
    expect(compareVersions({ ts: 2, origin: 'b' }, { ts: 2, origin: 'b' })).toBe(0);
  });

  it('any order of applying the same records, with duplicates, ends in the same record', () => {
    fc.assert(
      fc.property(
        fc.array(record, { minLength: 1, maxLength: 12 }),
        fc.func(fc.integer()),
        (records, key) => {
          const shuffled = [...records, ...records].sort(
            (a, b) => key(a.ts, b.ts) - key(b.ts, a.ts),
          );
          expect(merge(shuffled)).toEqual(merge(records));
          expect(merge(records)).toEqual(newest(records));
        },
      ),
    );
  });

  it('a tombstone beats an older write, so a delayed write cannot resurrect a deleted key', () => {
    const write: StoredRecord = { ts: 10, origin: 'a', expiresAt: 0, value: Buffer.from('v') };
    const tombstone: StoredRecord = { ts: 11, origin: 'b', expiresAt: 0, value: null };
    expect(merge([tombstone, write])).toBe(tombstone);
    expect(isLive(merge([tombstone, write]), 0)).toBe(false);
  });

  it('treats expired records as not live', () => {
    const r: StoredRecord = { ts: 1, origin: 'a', expiresAt: 1000, value: Buffer.from('v') };
    expect(isLive(r, 999)).toBe(true);
    expect(isLive(r, 1000)).toBe(false);
    expect(isLive(undefined, 0)).toBe(false);
  });
});
