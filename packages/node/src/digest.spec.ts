import { token } from '@kv/ring';
import {
  DIGEST_BUCKETS,
  Digest,
  bucketOf,
  bucketRange,
  decodeBuckets,
  encodeBuckets,
} from './digest';

const record = (ts: number, origin = 'a:1') => ({ ts, origin });

function digestOf(entries: [string, number][]): Digest {
  const d = new Digest();
  for (const [key, ts] of entries) d.add(token(key), Buffer.from(key), record(ts));
  return d;
}

describe('Digest', () => {
  it('is the same whatever order records are added in', () => {
    const a = digestOf([
      ['x', 1],
      ['y', 2],
      ['z', 3],
    ]);
    const b = digestOf([
      ['z', 3],
      ['x', 1],
      ['y', 2],
    ]);
    expect(a.differingBuckets(b)).toEqual([]);
    expect(a.count).toBe(3);
  });

  it('finds exactly the buckets of a missing key and of a different version', () => {
    const keys = Array.from({ length: 200 }, (_, i) => `k${i}`);
    const full = digestOf(keys.map((k) => [k, 1]));
    const missing = digestOf(keys.slice(1).map((k) => [k, 1]));
    expect(full.differingBuckets(missing)).toEqual([bucketOf(token('k0'))]);
    const newer = digestOf(keys.map((k) => [k, k === 'k7' ? 2 : 1]));
    expect(full.differingBuckets(newer)).toEqual([bucketOf(token('k7'))]);
  });

  it('round-trips its wire form and refuses one of the wrong size', () => {
    const d = digestOf([
      ['a', 5],
      ['b', 6],
    ]);
    const back = Digest.decode(d.encode());
    expect(back?.differingBuckets(d)).toEqual([]);
    expect(Digest.decode(Buffer.alloc(10))).toBeUndefined();
  });

  it('maps the whole token space onto the buckets', () => {
    expect(bucketOf(0)).toBe(0);
    expect(bucketOf(2 ** 48 - 1)).toBe(DIGEST_BUCKETS - 1);
  });

  it('gives each bucket the token range of the tokens in it', () => {
    for (const key of ['a', 'b', 'user:1', 'user:2']) {
      const t = token(key);
      const range = bucketRange(bucketOf(t));
      expect(t >= range.start && t < range.end).toBe(true);
    }
    expect(bucketRange(DIGEST_BUCKETS - 1).end).toBe(2 ** 48);
    expect(bucketRange(1).start).toBe(bucketRange(0).end);
  });
});

describe('bucket bitmaps', () => {
  it('carry a set of buckets', () => {
    const has = decodeBuckets(encodeBuckets([0, 9, 1023]));
    expect(has && [0, 1, 9, 10, 1023].map(has)).toEqual([true, false, true, false, true]);
    expect(decodeBuckets(Buffer.alloc(3))).toBeUndefined();
  });
});
