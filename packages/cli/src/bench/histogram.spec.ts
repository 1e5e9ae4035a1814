import { LatencyHistogram, REPORTED_PERCENTILES } from './histogram';
import { seededRandom } from './seeded-random';

/** The nearest-rank percentile of sorted values: what the histogram approximates. */
function exactPercentile(sorted: readonly number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

function filled(values: readonly number[]): LatencyHistogram {
  const h = new LatencyHistogram();
  for (const v of values) h.record(v);
  return h;
}

describe('LatencyHistogram', () => {
  it('is exact below 256', () => {
    const values = Array.from({ length: 256 }, (_, i) => i);
    const h = filled(values);
    for (const p of [1, 10, 50, 90, 99, 100]) {
      expect(h.percentile(p)).toBe(exactPercentile(values, p));
    }
  });

  it('is within 1% above of every percentile of 1..100,000', () => {
    const values = Array.from({ length: 100_000 }, (_, i) => i + 1);
    const h = filled(values);
    expect(h.summary()).toMatchObject({ count: 100_000, min: 1, max: 100_000, mean: 50_000.5 });
    for (const p of [...REPORTED_PERCENTILES, 1, 25, 75, 99.99]) {
      const exact = exactPercentile(values, p);
      const reported = h.percentile(p);
      // It reports the top of the value's bucket: never below, at most 1/128 above.
      expect(reported).toBeGreaterThanOrEqual(exact);
      expect((reported - exact) / exact).toBeLessThan(0.01);
    }
    expect(h.percentile(100)).toBe(100_000);
  });

  it('is within 1% of the exact percentiles of skewed random latencies', () => {
    const random = seededRandom(7);
    // Log-normal-ish microseconds, 50 µs to several seconds: the shape of real latencies.
    const values = Array.from({ length: 50_000 }, () =>
      Math.round(Math.exp(5 + 4 * random() * random() + 6 * random() ** 8)),
    );
    const h = filled(values);
    const sorted = [...values].sort((a, b) => a - b);
    for (const p of [...REPORTED_PERCENTILES, 0, 100]) {
      const exact = exactPercentile(sorted, p);
      expect(Math.abs(h.percentile(p) - exact) / exact).toBeLessThan(0.01);
    }
    expect(h.max).toBe(sorted[sorted.length - 1]);
    expect(h.min).toBe(sorted[0]);
  });

  it('never reports more than the largest value recorded', () => {
    const h = filled([1000, 1001]);
    expect(h.percentile(99.9)).toBe(1001);
    expect(h.percentile(50)).toBeGreaterThanOrEqual(1000);
  });

  it('handles very large values, rounding and negatives', () => {
    const h = new LatencyHistogram();
    h.record(2 ** 40 + 12_345);
    h.record(2.6);
    h.record(-5);
    expect(h.max).toBe(2 ** 40 + 12_345);
    expect(h.min).toBe(0);
    expect(h.percentile(50)).toBe(3);
    expect(h.percentile(100)).toBe(2 ** 40 + 12_345);
    expect(Math.abs(h.percentile(99) - 2 ** 40) / 2 ** 40).toBeLessThan(0.01);
  });

  it('records repeated values with a count', () => {
    const h = new LatencyHistogram();
    h.record(10, 99);
    h.record(5000);
    expect(h.count).toBe(100);
    expect(h.percentile(99)).toBe(10);
    expect(h.percentile(99.9)).toBe(5000);
    expect(h.mean).toBeCloseTo((990 + 5000) / 100);
  });

  it('merges histograms and resets', () => {
    const a = filled([1, 2, 3]);
    const b = filled([100_000, 200_000]);
    a.add(b);
    expect(a.summary()).toMatchObject({ count: 5, min: 1, max: 200_000 });
    expect(a.percentile(60)).toBe(3);
    expect(a.add(new LatencyHistogram())).toBeUndefined();
    expect(a.min).toBe(1);
    a.reset();
    expect(a.summary()).toEqual({
      count: 0,
      min: 0,
      mean: 0,
      p50: 0,
      p95: 0,
      p99: 0,
      p999: 0,
      max: 0,
    });
  });

  it('scales its summary, e.g. microseconds to milliseconds', () => {
    const s = filled([1500, 2500]).summary(1 / 1000);
    expect(s.min).toBe(1.5);
    expect(s.max).toBe(2.5);
    expect(s.mean).toBe(2);
  });
});
