import { seededRandom } from './seeded-random';
import { YCSB_ZIPFIAN_CONSTANT, ZipfianGenerator } from './zipfian';

function histogram(generator: ZipfianGenerator, draws: number): number[] {
  const counts = new Array<number>(generator.items).fill(0);
  for (let i = 0; i < draws; i++) {
    const item = generator.next();
    counts[item] = (counts[item] as number) + 1;
  }
  return counts;
}

const total = (counts: readonly number[], from: number, to: number): number =>
  counts.slice(from, to).reduce((a, b) => a + b, 0);

describe('ZipfianGenerator', () => {
  const DRAWS = 300_000;
  const generator = new ZipfianGenerator(1000, seededRandom(42));
  const counts = histogram(generator, DRAWS);

  it("uses YCSB's constant", () => {
    expect(generator.theta).toBe(YCSB_ZIPFIAN_CONSTANT);
    expect(YCSB_ZIPFIAN_CONSTANT).toBe(0.99);
  });

  it('draws only integers in range, and reaches the least popular keys', () => {
    expect(total(counts, 0, 1000)).toBe(DRAWS);
    const g = new ZipfianGenerator(1000, seededRandom(1));
    for (let i = 0; i < 10_000; i++) {
      const item = g.next();
      expect(Number.isInteger(item) && item >= 0 && item < 1000).toBe(true);
    }
    expect(total(counts, 900, 1000)).toBeGreaterThan(0);
    // Extreme uniform draws stay in range.
    expect(new ZipfianGenerator(1000, () => 0.999_999_999_999).next()).toBeLessThan(1000);
    expect(new ZipfianGenerator(1000, () => 0).next()).toBe(0);
  });

  it('draws the most popular items with their Zipfian probability', () => {
    for (const item of [0, 1]) {
      const observed = (counts[item] as number) / DRAWS;
      expect(Math.abs(observed - generator.probability(item)) / observed).toBeLessThan(0.03);
    }
    // Item 0 of 1000 gets 1 / zeta(1000, 0.99), about 13% of the draws.
    expect(generator.probability(0)).toBeCloseTo(0.134, 2);
  });

  it('hits more popular keys more: each band of ranks less often per key than the one before', () => {
    const bands = [
      [0, 1],
      [1, 2],
      [2, 10],
      [10, 100],
      [100, 1000],
    ] as const;
    const perKey = bands.map(([from, to]) => total(counts, from, to) / (to - from));
    for (let i = 1; i < perKey.length; i++) {
      expect(perKey[i]).toBeLessThan(perKey[i - 1] as number);
    }
    // The top 10% of keys take most of the requests (about 70% for theta 0.99).
    expect(total(counts, 0, 100) / DRAWS).toBeGreaterThan(0.6);
    // ... and the share of each band follows the distribution within a few percent.
    for (const [from, to] of bands.slice(2)) {
      let expected = 0;
      for (let i = from; i < to; i++) expected += generator.probability(i);
      const observed = total(counts, from, to) / DRAWS;
      expect(Math.abs(observed - expected) / expected).toBeLessThan(0.1);
    }
  });

  it('works for one item and for large key spaces, and rejects bad parameters', () => {
    const one = new ZipfianGenerator(1, seededRandom(3));
    expect([one.next(), one.next(), one.next()]).toEqual([0, 0, 0]);
    const large = new ZipfianGenerator(1_000_000, seededRandom(5));
    for (let i = 0; i < 1000; i++) expect(large.next()).toBeLessThan(1_000_000);
    expect(() => new ZipfianGenerator(0)).toThrow(RangeError);
    expect(() => new ZipfianGenerator(1.5)).toThrow('items must be a positive integer, got 1.5');
    expect(() => new ZipfianGenerator(10, Math.random, 1)).toThrow('theta must be in (0, 1)');
  });
});
