/**
 * Significant binary digits kept per value: values below 2^8 are counted exactly, larger ones
 * in buckets 1/128 of their magnitude wide, so a reported percentile is within 0.8% of the
 * recorded value it stands for (HdrHistogram's scheme with 2 significant decimal digits).
 */
const PRECISION_BITS = 8;
const EXACT_LIMIT = 2 ** PRECISION_BITS;
const HALF = EXACT_LIMIT / 2;

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
 * A histogram of non-negative integers (latencies in microseconds, for `kv bench`) in
 * logarithmic buckets: memory stays a few kilobytes however many values are recorded, and a
 * percentile is within 0.8% of the exact one. The minimum, maximum and mean are exact.
 *
 * @example
 * ```ts
 * const h = new LatencyHistogram();
 * for (const us of [120, 250, 3400]) h.record(us);
 * h.percentile(50); // 250
 * ```
 */
export class LatencyHistogram {
  private counts: Float64Array = new Float64Array(EXACT_LIMIT);
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
    const index = bucketOf(v);
    if (index >= this.counts.length) this.grow(index + 1);
    this.counts[index] = (this.counts[index] as number) + times;
    this.total += times;
    this.sum += v * times;
    if (v < this.lowest) this.lowest = v;
    if (v > this.highest) this.highest = v;
  }

  /** Adds every value of `other` to this histogram. */
  add(other: LatencyHistogram): void {
    if (other.counts.length > this.counts.length) this.grow(other.counts.length);
    for (let i = 0; i < other.counts.length; i++) {
      this.counts[i] = (this.counts[i] as number) + (other.counts[i] as number);
    }
    this.total += other.total;
    this.sum += other.sum;
    if (other.total > 0) {
      this.lowest = Math.min(this.lowest, other.lowest);
      this.highest = Math.max(this.highest, other.highest);
    }
  }

  /** Forgets every value. */
  reset(): void {
    this.counts = new Float64Array(EXACT_LIMIT);
    this.total = 0;
    this.sum = 0;
    this.lowest = Number.POSITIVE_INFINITY;
    this.highest = 0;
  }

  /**
   * The value at or below which `p` percent of the recorded values lie: the largest value
   * of the bucket holding that rank, never above the maximum recorded. 0 when empty.
   *
   * @param p - from 0 to 100
   */
  percentile(p: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil((Math.min(Math.max(p, 0), 100) / 100) * this.total));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i] as number;
      if (seen >= rank) return Math.min(highestInBucket(i), this.highest);
    }
    return this.highest;
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

  private grow(length: number): void {
    const next = new Float64Array(Math.max(length, this.counts.length * 2));
    next.set(this.counts);
    this.counts = next;
  }
}

/**
 * Bucket of a non-negative integer: itself below {@link EXACT_LIMIT}; above, buckets of
 * `2^shift` values where `v >> shift` keeps the top {@link PRECISION_BITS} - 1 bits.
 */
function bucketOf(v: number): number {
  if (v < EXACT_LIMIT) return v;
  let shift = Math.floor(Math.log2(v)) - (PRECISION_BITS - 1);
  // Math.log2 may round up just below a power of two; the top bits must be HALF..2*HALF-1.
  if (Math.floor(v / 2 ** shift) < HALF) shift--;
  const top = Math.floor(v / 2 ** shift);
  return EXACT_LIMIT + (shift - 1) * HALF + (top - HALF);
}

/** Largest integer that falls in bucket `index`. */
function highestInBucket(index: number): number {
  if (index < EXACT_LIMIT) return index;
  const shift = Math.floor((index - EXACT_LIMIT) / HALF) + 1;
  const top = ((index - EXACT_LIMIT) % HALF) + HALF;
  return (top + 1) * 2 ** shift - 1;
}
