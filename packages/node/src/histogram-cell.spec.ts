import { HistogramCell, RecentHistogram } from './histogram-cell';

describe('HistogramCell', () => {
  it('counts each value in the first bucket whose bound is not below it', () => {
    const cell = new HistogramCell([1, 2, 5]);
    for (const v of [0.5, 1, 1.5, 5, 9]) cell.observe(v);
    expect([...cell.counts]).toEqual([2, 1, 1, 1]);
    expect(cell.count).toBe(5);
    expect(cell.sum).toBe(17);
  });

  it('interpolates quantiles inside their bucket, as histogram_quantile does', () => {
    const cell = new HistogramCell([1, 2, 4]);
    expect(cell.quantile(0.99)).toBe(0);
    for (let i = 0; i < 50; i++) cell.observe(0.5);
    for (let i = 0; i < 50; i++) cell.observe(3);
    expect(cell.quantile(0.5)).toBe(1);
    expect(cell.quantile(0.75)).toBe(3);
    cell.observe(100);
    expect(cell.quantile(1)).toBe(4);
  });

  it('adds another cell of the same bounds', () => {
    const a = new HistogramCell([1, 2]);
    const b = new HistogramCell([1, 2]);
    a.observe(0.5);
    b.observe(1.5);
    b.observe(3);
    a.add(b);
    expect([...a.counts]).toEqual([1, 1, 1]);
    expect([a.count, a.sum]).toEqual([3, 5]);
  });
});

describe('RecentHistogram', () => {
  it('answers for the last one to two windows, forgetting what came before', () => {
    let now = 0;
    const recent = new RecentHistogram([1, 2, 4], 1000, () => now);
    expect(recent.quantile(0.99)).toBe(0);
    for (let i = 0; i < 100; i++) recent.observe(3);
    expect(recent.quantile(0.99)).toBeGreaterThan(2);
    // The next window: the slow ones still count, beside fast ones.
    now = 1500;
    for (let i = 0; i < 100; i++) recent.observe(0.5);
    expect(recent.quantile(0.99)).toBeGreaterThan(2);
    expect(recent.quantile(0.25)).toBeLessThanOrEqual(1);
    // The window after: only the fast ones are left.
    now = 2600;
    recent.observe(0.5);
    expect(recent.quantile(0.99)).toBeLessThanOrEqual(1);
    // Two windows of silence: nothing is left.
    now = 10_000;
    expect(recent.quantile(0.99)).toBe(0);
  });

  it('keeps windows on their own boundaries, however late it is read', () => {
    let now = 0;
    const recent = new RecentHistogram([1, 2, 4], 1000, () => now);
    recent.observe(3);
    // Read late in the second window, then in the third: the first is gone by then.
    now = 1900;
    expect(recent.quantile(0.5)).toBeGreaterThan(2);
    now = 2850;
    expect(recent.quantile(0.5)).toBe(0);
  });
});
