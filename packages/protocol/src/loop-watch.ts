/** Default of {@link LoopWatch}'s tick. */
export const LOOP_WATCH_TICK_MS = 50;

/**
 * The earliest moment bytes read at `now` can have arrived, given that the event loop was
 * last seen running at `lastAlive` with a timer every `tickMs`. When the loop ran on time,
 * bytes are read as they come, so they arrived about now. When it did not (the process was
 * paused, or something blocked the loop), they may have waited in the socket buffer ever
 * since the loop last ran: the estimate is then `lastAlive`.
 */
export function earliestArrival(now: number, lastAlive: number, tickMs: number): number {
  return now - lastAlive > 2 * tickMs ? lastAlive : now;
}

/**
 * Watches the event loop with a small unref'd timer, so that a server can tell how long a
 * request may have waited before it was read. A process that was paused (SIGSTOP, a VM
 * freeze) or blocked reads requests that arrived long before, whose clients may have given
 * up and written elsewhere: a write must not be stamped then. Socket reads that follow a
 * pause run before timers do, so the gap is measured against the last tick, not by it.
 */
export class LoopWatch {
  private lastAlive: number;
  private timer: NodeJS.Timeout | undefined;
  /**
   * The last stall the timer noticed: since when the loop did not run, when it saw so, and
   * whether the loop has polled the sockets since.
   */
  private stall: { from: number; seenAt: number; polled: boolean } | undefined;

  /**
   * @param now - a monotonic clock in milliseconds; injectable for tests
   * @param tickMs - how often the loop proves it runs
   */
  constructor(
    private readonly now: () => number = () => performance.now(),
    readonly tickMs: number = LOOP_WATCH_TICK_MS,
    /** Told, from the timer, of each stall longer than `stallMs` (a pause, a blocked loop). */
    private readonly onStall?: (stalledMs: number) => void,
    private readonly stallMs: number = Number.POSITIVE_INFINITY,
  ) {
    this.lastAlive = now();
  }

  /** Starts the timer (it does not keep the process alive). */
  start(): void {
    if (this.timer) return;
    this.lastAlive = this.now();
    this.timer = setInterval(() => this.tick(), this.tickMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Records that the loop runs; the timer calls it. */
  tick(): void {
    const now = this.now();
    const stalled = now - this.lastAlive;
    // A process stopped while running code resumes where it was; the loop's next turn runs
    // this timer before it polls the sockets, so the reads that follow must still be judged
    // by the stall this tick saw: until the loop has polled once (setImmediate runs right
    // after the poll phase), however long the other timers of this turn take.
    if (stalled > 2 * this.tickMs) {
      const stall = { from: this.lastAlive, seenAt: now, polled: false };
      this.stall = stall;
      setImmediate(() => (stall.polled = true));
    }
    this.lastAlive = now;
    if (stalled > this.stallMs) this.onStall?.(stalled);
  }

  /**
   * The earliest moment bytes read now can have arrived (see {@link earliestArrival}); after
   * the timer saw a stall, the start of that stall, until the loop has polled the sockets
   * and two ticks have passed.
   */
  arrival(): number {
    return this.arrivalBefore(this.now());
  }

  /** How long bytes read now may have waited, in milliseconds (0 when the loop ran on time). */
  waited(): number {
    const now = this.now();
    return now - this.arrivalBefore(now);
  }

  private arrivalBefore(now: number): number {
    const arrival = earliestArrival(now, this.lastAlive, this.tickMs);
    const stall = this.stall;
    return stall !== undefined && (!stall.polled || now - stall.seenAt <= 2 * this.tickMs)
      ? Math.min(arrival, stall.from)
      : arrival;
  }
}
