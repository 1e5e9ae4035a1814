import { build, type Histogram } from 'hdr-histogram-js';

/**
 * Significant decimal digits HdrHistogram keeps per value: values below 256 are counted
 * exactly, larger ones in buckets 1/128 of their magnitude wide, so a reported percentile
 * is within 0.8% of the recorded value it stands for.
 */
const SIGNIFICANT_DIGITS = 2;

/** The percentiles `kv bench` reports, in its order. */
export const REPORTED_PERCENTILES = [50, 95, 99, 99.9] as const;

/** A summary of the values in a {@link LatencyHistogram}, in the histogram's unit. */
export interface HistogramSummary {
  readonly count: number;
  readonly min: number;
  readonly mean: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

/**
 * A histogram of non-negative integers (latencies in microseconds, for `kv bench`), kept by
 * HdrHistogram (hdr-histogram-js) in logarithmic buckets: memory stays a few kilobytes however
 * many values are recorded, and a percentile is within 0.8% of the exact one. The minimum,
 * maximum and mean are kept exactly beside it.
 *
 * @example
 * ```ts
 * const h = new LatencyHistogram();
 * for (const us of [120, 250, 3400]) h.record(us);
 * h.percentile(50); // 250
 * ```
 */
export class LatencyHistogram {
  private readonly buckets: Histogram = newBuckets();
  private total = 0;
  private sum = 0;
  private lowest = Number.POSITIVE_INFINITY;
  private highest = 0;

  /** Values recorded. */
  get count(): number {
    return this.total;
  }

  /** Largest value recorded; 0 when empty. */
  get max(): number {
    return this.highest;
  }

  /** Smallest value recorded; 0 when empty. */
  get min(): number {
    return this.total === 0 ? 0 : this.lowest;
  }

  /** Arithmetic mean of the values recorded; 0 when empty. */
  get mean(): number {
    return this.total === 0 ? 0 : this.sum / this.total;
  }

  /**
   * Records `value` (rounded to an integer; negative values count as 0) `times` times.
   */
  record(value: number, times = 1): void {
    const v = value > 0 ? Math.round(value) : 0;
    this.buckets.recordValueWithCount(v, times);
    this.total += times;
    this.sum += v * times;
    if (v < this.lowest) this.lowest = v;
    if (v > this.highest) this.highest = v;
  }

  /** Adds every value of `other` to this histogram. */
  add(other: LatencyHistogram): void {
    this.buckets.add(other.buckets);
    this.total += other.total;
    this.sum += other.sum;
    if (other.total > 0) {
      this.lowest = Math.min(this.lowest, other.lowest);
      this.highest = Math.max(this.highest, other.highest);
    }
  }

  /** Forgets every value. */
  reset(): void {
    this.buckets.reset();
    this.total = 0;
    this.sum = 0;
    this.lowest = Number.POSITIVE_INFINITY;
    this.highest = 0;
  }

  /**
   * The value at or below which `p` percent of the recorded values lie (nearest rank): the
   * largest value of the bucket holding that rank, never above the maximum recorded. 0 when
   * empty.
   *
   * @param p - from 0 to 100
   */
  percentile(p: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil((Math.min(Math.max(p, 0), 100) / 100) * this.total));
    // HdrHistogram rounds the rank to the nearest; asking for the rank's own percentile
    // keeps the nearest-rank definition every report of kv uses.
    const value = this.buckets.getValueAtPercentile((rank / this.total) * 100);
    return Math.min(value, this.highest);
  }

  /** Count, min, mean, the {@link REPORTED_PERCENTILES} and max, each multiplied by `scale`. */
  summary(scale = 1): HistogramSummary {
    return {
      count: this.total,
      min: this.min * scale,
      mean: this.mean * scale,
      p50: this.percentile(50) * scale,
      p95: this.percentile(95) * scale,
      p99: this.percentile(99) * scale,
      p999: this.percentile(99.9) * scale,
      max: this.highest * scale,
    };
  }
}

function newBuckets(): Histogram {
  return build({
    numberOfSignificantValueDigits: SIGNIFICANT_DIGITS,
    bitBucketSize: 64,
    autoResize: true,
    useWebAssembly: false,
  });
}
