import { ErrorCode, ReplyError } from '@kv/protocol';

/**
 * Timestamps of a hybrid logical clock packed into one safe integer:
 * `wall milliseconds × 1024 + logical counter`. Up to 1024 versions per millisecond; past
 * that the clock borrows the next millisecond, which keeps it monotonic.
 */
export const LOGICAL_BITS = 10;
const LOGICAL_SPAN = 2 ** LOGICAL_BITS;

/**
 * The latest timestamp a clock adopts (or a node stores): 2^32 below the largest safe
 * integer (a wall time in year 2248), so a clock that adopted it can still issue four
 * billion later stamps before they would stop being exact integers.
 */
export const MAX_TIMESTAMP = Number.MAX_SAFE_INTEGER - 2 ** 32;

/** Milliseconds of a packed timestamp. */
export function wallOf(ts: number): number {
  return Math.floor(ts / LOGICAL_SPAN);
}

/**
 * The next stamp would not be an exact integer (past 2^53 - 1): the wall clock reads past
 * year 2248. The node stamps nothing until its clock is set right.
 */
export class ClockRangeError extends ReplyError {
  constructor(ts: number) {
    super(
      `${ErrorCode.CLOCKSKEW} this node's clock reads ${wallOf(ts)} ms since the epoch, past the last time a version can carry: set its clock right`,
    );
    this.name = 'ClockRangeError';
  }
}

/**
 * A hybrid logical clock: timestamps follow the wall clock when it moves forward, never go
 * backwards, and always order after every timestamp the clock has observed, so a node
 * whose wall clock is behind its peers still stamps its writes after what it has seen.
 */
export class HybridLogicalClock {
  private last = 0;

  /**
   * @param wallClock - milliseconds since the epoch; injectable for tests
   * @param maxAheadMs - how far ahead of this clock's wall time an observed timestamp may
   *   be: one further ahead comes from a clock out of bounds (or a forged record) and is
   *   not adopted, so it cannot drag this node's versions into the future
   */
  constructor(
    private readonly wallClock: () => number = Date.now,
    readonly maxAheadMs: number = Number.POSITIVE_INFINITY,
  ) {}

  /**
   * A new timestamp, greater than every one issued or observed before.
   * @throws ClockRangeError if the wall clock reads past year 2248: no exact timestamp is
   *   left to issue
   */
  now(): number {
    const physical = Math.floor(this.wallClock()) * LOGICAL_SPAN;
    const next = physical > this.last ? physical : this.last + 1;
    if (!(next <= Number.MAX_SAFE_INTEGER)) throw new ClockRangeError(next);
    this.last = next;
    return next;
  }

  /**
   * True if `ts` is an integer from 0 to {@link MAX_TIMESTAMP} no further ahead of this
   * clock's wall time than `maxAheadMs`: what a node may store and adopt.
   */
  admits(ts: number): boolean {
    return (
      Number.isSafeInteger(ts) &&
      ts >= 0 &&
      ts <= MAX_TIMESTAMP &&
      wallOf(ts) <= this.wallClock() + this.maxAheadMs
    );
  }

  /** How far `ts` is ahead of this clock's wall time, in milliseconds (negative if behind). */
  aheadMs(ts: number): number {
    return wallOf(ts) - Math.floor(this.wallClock());
  }

  /**
   * Takes note of a timestamp seen from elsewhere so later ones order after it. A timestamp
   * this clock does not {@link admits admit} is ignored.
   */
  observe(ts: number): void {
    if (ts > this.last && this.admits(ts)) this.last = ts;
  }

  /** The latest timestamp issued or observed (0 at start). */
  peek(): number {
    return this.last;
  }
}
