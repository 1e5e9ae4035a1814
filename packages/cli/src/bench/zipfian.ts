/** A source of uniform random numbers in [0, 1), such as `Math.random`. */
export type RandomSource = () => number;

/** YCSB's Zipfian constant: the most popular of 100,000 keys gets about 8% of requests. */
export const YCSB_ZIPFIAN_CONSTANT = 0.99;

/**
 * Draws integers from 0 to `items - 1` with Zipfian popularity: item `i` is drawn with
 * probability proportional to `1 / (i + 1)^theta`, so 0 is the most popular. It is YCSB's
 * `ZipfianGenerator` (Gray et al., "Quickly generating billion-record synthetic databases",
 * SIGMOD 1994): constant time per draw after an O(items) set-up.
 *
 * YCSB also scrambles the ranks so that popular keys are not neighbours; kv places keys by
 * hashing their names, so the popular keys already land on random nodes and ranks are used
 * as key numbers directly.
 */
export class ZipfianGenerator {
  /** Number of items: draws are from 0 to `items - 1`. */
  readonly items: number;
  /** The skew: larger means fewer items take more of the draws. */
  readonly theta: number;
  /** `sum(1 / i^theta)` for i = 1..items: the normalising constant. */
  readonly zetan: number;
  private readonly alpha: number;
  private readonly eta: number;
  private readonly halfPowTheta: number;
  private readonly random: RandomSource;

  /**
   * @param items - how many items, at least 1
   * @param random - the uniform source; a seeded one makes draws repeatable
   * @param theta - the skew, from 0 (exclusive) to 1 (exclusive)
   * @throws RangeError for an item count or theta out of range
   */
  constructor(items: number, random: RandomSource = Math.random, theta = YCSB_ZIPFIAN_CONSTANT) {
    if (!Number.isSafeInteger(items) || items < 1) {
      throw new RangeError(`items must be a positive integer, got ${items}`);
    }
    if (!(theta > 0 && theta < 1)) throw new RangeError(`theta must be in (0, 1), got ${theta}`);
    this.items = items;
    this.theta = theta;
    this.random = random;
    this.zetan = zeta(items, theta);
    const zeta2 = zeta(2, theta);
    this.alpha = 1 / (1 - theta);
    this.eta = (1 - Math.pow(2 / items, 1 - theta)) / (1 - zeta2 / this.zetan);
    this.halfPowTheta = Math.pow(0.5, theta);
  }

  /** The exact probability of drawing `item`. */
  probability(item: number): number {
    return 1 / Math.pow(item + 1, this.theta) / this.zetan;
  }

  /** The next item, from 0 to `items - 1`. */
  next(): number {
    const u = this.random();
    const uz = u * this.zetan;
    if (uz < 1) return 0;
    if (uz < 1 + this.halfPowTheta) return Math.min(1, this.items - 1);
    const item = Math.floor(this.items * Math.pow(this.eta * u - this.eta + 1, this.alpha));
    // The approximation can reach `items` when u is within rounding of 1.
    return Math.min(item, this.items - 1);
  }
}

/** `sum(1 / i^theta)` for i = 1..n. */
function zeta(n: number, theta: number): number {
  let sum = 0;
  for (let i = 1; i <= n; i++) sum += 1 / Math.pow(i, theta);
  return sum;
}
