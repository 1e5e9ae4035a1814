import type { MetricValueWithName, Registry } from 'prom-client';

/**
 * Latency bucket bounds in seconds: 50 µs to 10 s, enough resolution around the
 * sub-millisecond replies of an in-memory store and the timeouts of a slow replica.
 */
export const LATENCY_BUCKETS: readonly number[] = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
  10,
];

/**
 * A histogram as code updates it: counts per bucket in a typed array, so an observation
 * costs a short scan and two additions and allocates nothing (prom-client's `observe`
 * hashes labels and allocates per call). The registry reads it when scraped.
 */
export class HistogramCell {
  /** Observations per bucket (not cumulative); the last slot counts those above every bound. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  /** Records `value`, `times` times (the round trip of a batch, once per record in it). */
  observe(value: number, times = 1): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    this.counts[i] = (this.counts[i] as number) + times;
    this.sum += value * times;
    this.count += times;
  }

  /** Adds the observations of `other` (same bounds) to this one. */
  add(other: HistogramCell): void {
    for (let i = 0; i < this.counts.length; i++)
      this.counts[i] = (this.counts[i] as number) + (other.counts[i] as number);
    this.sum += other.sum;
    this.count += other.count;
  }

  /**
   * The `q` quantile (0..1), interpolated linearly inside its bucket as Prometheus'
   * `histogram_quantile` does; 0 without observations, the highest bound when it falls
   * above every bound.
   */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = q * this.count;
    let below = 0;
    for (let i = 0; i < this.bounds.length; i++) {
      const inBucket = this.counts[i] as number;
      if (below + inBucket >= rank && inBucket > 0) {
        const lower = i === 0 ? 0 : (this.bounds[i - 1] as number);
        const upper = this.bounds[i] as number;
        return lower + ((upper - lower) * (rank - below)) / inBucket;
      }
      below += inBucket;
    }
    return this.bounds.at(-1) ?? 0;
  }
}

/**
 * The observations of about the last `windowMs` (from one window to two): two cells, the
 * older dropped each time a window ends. For a figure read now (`INFO`), which a lifetime
 * histogram would dull: a disk that turned slow a minute ago shows at once, and one that
 * recovered stops showing.
 */
export class RecentHistogram {
  private current: HistogramCell;
  private previous: HistogramCell;
  /** When (ms, on `now`) the current window ends. */
  private endsAt: number;

  constructor(
    private readonly bounds: readonly number[],
    private readonly windowMs = 60_000,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.current = new HistogramCell(bounds);
    this.previous = new HistogramCell(bounds);
    this.endsAt = now() + windowMs;
  }

  observe(value: number): void {
    this.roll();
    this.current.observe(value);
  }

  /** The `q` quantile of the recent observations (see {@link HistogramCell.quantile}). */
  quantile(q: number): number {
    this.roll();
    const recent = new HistogramCell(this.bounds);
    recent.add(this.previous);
    recent.add(this.current);
    return recent.quantile(q);
  }

  private roll(): void {
    const t = this.now();
    if (t < this.endsAt) return;
    if (t < this.endsAt + this.windowMs) {
      this.previous = this.current;
      this.endsAt += this.windowMs;
    } else {
      // A whole window went by with nothing observed or read: the current cell is old too.
      this.previous = new HistogramCell(this.bounds);
      this.endsAt = t + this.windowMs;
    }
    this.current = new HistogramCell(this.bounds);
  }
}

/**
 * Registers a histogram family in `registry` whose series are read from cells when
 * scraped: `series()` gives `[label value, cell]` pairs, labelled `label` (no label when
 * `label` is undefined).
 */
export function registerHistograms(
  registry: Registry,
  spec: { readonly name: string; readonly help: string },
  label: string | undefined,
  series: () => Iterable<readonly [string, HistogramCell]>,
): void {
  const metric = {
    name: spec.name,
    help: spec.help,
    type: 'histogram',
    aggregator: 'sum',
    get: () => ({
      name: spec.name,
      help: spec.help,
      type: 'histogram',
      aggregator: 'sum',
      values: [...series()].flatMap(([value, cell]) =>
        histogramValues(spec.name, label === undefined ? {} : { [label]: value }, cell),
      ),
    }),
    reset: (): void => undefined,
  };
  registry.registerMetric(metric as unknown as Parameters<Registry['registerMetric']>[0]);
}

function histogramValues(
  name: string,
  labels: Record<string, string>,
  cell: HistogramCell,
): MetricValueWithName<string>[] {
  const values: MetricValueWithName<string>[] = [];
  let cumulative = 0;
  cell.bounds.forEach((bound, i) => {
    cumulative += cell.counts[i] as number;
    values.push({
      metricName: `${name}_bucket`,
      labels: { ...labels, le: bound },
      value: cumulative,
    });
  });
  values.push({
    metricName: `${name}_bucket`,
    labels: { ...labels, le: '+Inf' },
    value: cell.count,
  });
  values.push({ metricName: `${name}_sum`, labels, value: cell.sum });
  values.push({ metricName: `${name}_count`, labels, value: cell.count });
  return values;
}
