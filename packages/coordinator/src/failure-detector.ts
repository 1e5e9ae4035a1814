import type { Membership, MembershipChange } from './membership';

/** Options of {@link FailureDetector}. */
export interface FailureDetectorOptions {
  /** A member silent for at least this many milliseconds is declared dead. */
  readonly failureTimeoutMs: number;
  /**
   * How often {@link FailureDetector.start} checks. A death is noticed at most this long
   * after the timeout expires.
   * @default {@link checkIntervalFor}(1000, failureTimeoutMs)
   */
  readonly checkIntervalMs?: number;
  /**
   * Asked before each periodic check; deaths are decided only while it returns true (a
   * coordinator among several: only while it leads).
   * @default always true
   */
  readonly mayDecide?: () => boolean;
  /** Receives each death found by a periodic check. */
  readonly onChange?: (change: MembershipChange) => void;
  /** Receives an unexpected exception thrown by a periodic check; the timer keeps running. */
  readonly onError?: (err: unknown) => void;
  /**
   * Told once when the detector starts holding back deaths because most members fell
   * silent together (see {@link FailureDetector.check}), with how many of how many.
   */
  readonly onHold?: (silent: number, members: number) => void;
  /** Told once when a majority of members is heard again after a hold. */
  readonly onResume?: () => void;
  /**
   * Told when a periodic check ran late by `stallMs` (the event loop was blocked or the
   * process paused); that time is not counted against the members.
   */
  readonly onStall?: (stallMs: number) => void;
}

/**
 * How often to look for dead members: often enough that a death is noticed within a small
 * fraction of the failure timeout and within half a heartbeat interval, and never more
 * often than every 5 ms.
 */
export function checkIntervalFor(heartbeatIntervalMs: number, failureTimeoutMs: number): number {
  return Math.max(5, Math.floor(Math.min(heartbeatIntervalMs / 2, failureTimeoutMs / 10)));
}

/**
 * Declares members dead when they have been silent for the failure timeout. {@link check}
 * is the whole decision and uses the membership's clock, so it is tested by moving a fake
 * clock; {@link start} runs it on an unref'd timer, and does not count time in which the
 * timer could not run (a blocked event loop, a paused process) against the members.
 */
export class FailureDetector {
  readonly failureTimeoutMs: number;
  readonly checkIntervalMs: number;
  private timer: NodeJS.Timeout | undefined;
  private lastTick = 0;
  private holding = false;

  constructor(
    private readonly membership: Membership,
    private readonly options: FailureDetectorOptions,
  ) {
    this.failureTimeoutMs = options.failureTimeoutMs;
    this.checkIntervalMs = options.checkIntervalMs ?? checkIntervalFor(1000, this.failureTimeoutMs);
  }

  /**
   * Removes every member silent for at least the failure timeout from the ring, one epoch
   * bump each, and returns the changes (oldest silence first, so the epochs follow the
   * order in which the members fell silent).
   *
   * Deaths are held back while most of the cluster fell silent together: when more than one
   * member of the read ring is **suspect** (silent for at least half the failure timeout)
   * and the read-ring members still heard from are not a strict majority of it, this coordinator is more likely cut off from
   * the cluster than the cluster dead, and emptying the ring would shrink every node's view
   * of it. Members that fail one at a time are declared dead as usual.
   */
  check(): MembershipChange[] {
    const silence = this.membership.silence();
    // The majority is judged among the members that serve reads: joining nodes come and go
    // in numbers that say nothing of which side of a partition this coordinator is on.
    const serving = this.membership.ring;
    const voters = silence.filter((s) => serving.has(s.id));
    const suspects = voters.filter((s) => s.silentMs >= this.failureTimeoutMs / 2).length;
    const heard = voters.length - suspects;
    if (suspects > 1 && heard * 2 <= voters.length) {
      if (!this.holding) {
        this.holding = true;
        this.options.onHold?.(suspects, voters.length);
      }
      return [];
    }
    if (this.holding) {
      this.holding = false;
      this.options.onResume?.();
    }
    const expired = silence
      .filter((s) => s.silentMs >= this.failureTimeoutMs)
      .sort((a, b) => b.silentMs - a.silentMs);
    return expired.map(({ id }) => this.membership.markDead(id));
  }

  /** True while deaths are held back (see {@link check}). */
  get holdingBack(): boolean {
    return this.holding;
  }

  /** Starts checking periodically. The timer does not keep the process alive. */
  start(): void {
    if (this.timer) return;
    this.lastTick = this.membership.now();
    this.timer = setInterval(() => this.tick(), this.checkIntervalMs);
    this.timer.unref();
  }

  /** Stops the periodic check. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    try {
      // A check that comes much later than scheduled means the coordinator itself did not
      // run: heartbeats sent meanwhile wait unread in socket buffers, and judging members
      // by that silence would declare the whole cluster dead after a long pause.
      const now = this.membership.now();
      const stallMs = now - this.lastTick - this.checkIntervalMs;
      this.lastTick = now;
      if (stallMs > this.checkIntervalMs) {
        this.membership.excuse(stallMs);
        this.options.onStall?.(stallMs);
      }
      if (this.options.mayDecide?.() === false) return;
      for (const change of this.check()) this.options.onChange?.(change);
    } catch (err) {
      this.options.onError?.(err);
    }
  }
}
