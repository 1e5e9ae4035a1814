/**
 * A token bucket in bytes per second, shared by everything a node streams. `take` waits
 * until the bytes fit: up to one second's worth may go at once, then the rate holds.
 */
export class Throttle {
  private available: number;
  private last: number;

  /**
   * @param bytesPerSecond - the rate; 0 means unlimited
   */
  constructor(
    readonly bytesPerSecond: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.available = bytesPerSecond;
    this.last = now();
  }

  /** Milliseconds to wait before `bytes` may be sent (and accounts for them). */
  delayFor(bytes: number): number {
    if (this.bytesPerSecond <= 0) return 0;
    const t = this.now();
    this.available = Math.min(
      this.bytesPerSecond,
      this.available + ((t - this.last) / 1000) * this.bytesPerSecond,
    );
    this.last = t;
    this.available -= bytes;
    return this.available >= 0 ? 0 : (-this.available / this.bytesPerSecond) * 1000;
  }

  /** Resolves once `bytes` may be sent. */
  async take(bytes: number): Promise<void> {
    const ms = this.delayFor(bytes);
    if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
  }
}
