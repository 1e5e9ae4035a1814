import { ErrorCode, ReplyError } from '@kv/protocol';
import type { ClockOffsetMonitor, ClockVerdict } from './clock-offset';
import { wallOf } from './hlc';
import type { NodeMetrics } from './metrics';

/** Options of {@link WriteGate}. */
export interface WriteGateOptions {
  /** Where the clock samples of the coordinator and the peers go. */
  readonly monitor: ClockOffsetMonitor;
  /** How long the request being served may have waited before it was read (a LoopWatch). */
  readonly waited: () => number;
  /** The longest a write may wait between arriving and being stamped. */
  readonly writeDeadlineMs: number;
  /** This node's wall clock. @default Date.now */
  readonly now?: () => number;
  /** Where refusals are counted. */
  readonly metrics?: NodeMetrics;
  /** A monotonic clock in milliseconds, for staleness. @default performance.now */
  readonly monotonic?: () => number;
  /** Told when {@link WriteGate.markStale} is called. */
  readonly onStale?: () => void;
  /** Told when the node becomes fenced or is released, with the verdict that decided it. */
  readonly onFenceChange?: (verdict: ClockVerdict) => void;
}

/**
 * What decides whether this node may stamp a write or acknowledge a replica's: its clock
 * must be within the cluster's bound (see {@link ClockOffsetMonitor}), and a request must
 * not have waited so long that its client may have given up and written elsewhere.
 * Last-writer-wins orders writes by their stamps; a stamp taken on a clock out of bounds,
 * or long after the client's deadline, could beat a write acknowledged after it.
 */
export class WriteGate {
  private fencedBy: ClockVerdict | undefined;
  private everMeasured = false;
  /** Since when this node's copy may lack writes (monotonic ms), until a sync round after. */
  private staleSince: number | undefined;
  /** While the coordinator is out of reach: the node's ring may be outdated. */
  private cutOff = false;
  private readonly now: () => number;

  constructor(private readonly options: WriteGateOptions) {
    this.now = options.now ?? Date.now;
  }

  /** The bound on clock offsets this gate enforces. */
  get maxOffsetMs(): number {
    return this.options.monitor.maxOffsetMs;
  }

  /**
   * True when this node's own copy may answer an R=1 read alone: it is not fenced, is in
   * touch with the coordinator, and has not missed writes since a sync round (see
   * {@link markStale}).
   */
  get readsAlone(): boolean {
    return this.fencedBy === undefined && this.staleSince === undefined && !this.cutOff;
  }

  /**
   * The coordinator is out of reach, or no longer knows this node: it may have declared
   * it dead and given its ranges to others, whose writes then go elsewhere. Its reads ask
   * another replica too until {@link reachedCoordinator}, and a sync round after that.
   */
  lostCoordinator(): void {
    this.cutOff = true;
  }

  /** The coordinator answers again and its ring is here: a sync round decides from now. */
  reachedCoordinator(): void {
    this.cutOff = false;
    this.markStale();
  }

  /**
   * This node may have missed writes (it was fenced and refused replica writes, cut off
   * from the coordinator or from a member, or paused): its reads ask another replica too
   * until a sync round that started after now has completed with every member.
   */
  markStale(): void {
    this.staleSince = this.monotonicNow();
    this.options.onStale?.();
  }

  /**
   * A sync round that started at `startedAt` (monotonic ms) completed with every peer;
   * true when that ends a staleness and the node's copy answers alone again.
   */
  roundCompleted(startedAt: number): boolean {
    if (this.staleSince === undefined || this.fencedBy || startedAt <= this.staleSince)
      return false;
    this.staleSince = undefined;
    return !this.cutOff;
  }

  private monotonicNow(): number {
    return (this.options.monotonic ?? (() => performance.now()))();
  }

  /** True once a clock measurement has succeeded. */
  get measured(): boolean {
    return this.everMeasured;
  }

  /** True while this node's clock is out of bounds. */
  get fenced(): boolean {
    return this.fencedBy !== undefined;
  }

  /** Re-reads the verdict (after each clock sample) and reports a change. */
  update(): ClockVerdict {
    const verdict = this.options.monitor.verdict();
    this.everMeasured ||= verdict.measured;
    const gauges = this.options.metrics?.gauges;
    gauges?.clockOffset.set(verdict.offsetMs / 1000);
    gauges?.clockFenced.set(verdict.fenced ? 1 : 0);
    if (verdict.fenced !== this.fenced) {
      this.fencedBy = verdict.fenced ? verdict : undefined;
      // Released: the replica writes refused meanwhile are missing here.
      if (!verdict.fenced) this.markStale();
      this.options.onFenceChange?.(verdict);
    }
    return verdict;
  }

  /**
   * Before this node stamps a write it coordinates.
   * @throws ReplyError `UNAVAILABLE` while fenced or before the first measurement (the
   *   client tries another node), `TIMEOUT`
   *   when the request may have waited past the write deadline
   */
  beforeStamp(): void {
    if (!this.everMeasured) {
      this.options.metrics?.counters.writesFenced.inc();
      throw new ReplyError(
        `${ErrorCode.UNAVAILABLE} this node has not measured its clock against the cluster yet: it coordinates no write until it has`,
      );
    }
    if (this.fencedBy) {
      this.options.metrics?.counters.writesFenced.inc();
      throw unavailableWhileFenced(this.fencedBy, this.maxOffsetMs);
    }
    const waited = this.options.waited();
    if (waited > this.options.writeDeadlineMs) {
      this.options.metrics?.counters.writeDeadlinesMissed.inc();
      throw new ReplyError(
        `${ErrorCode.TIMEOUT} the request may have waited ${Math.round(waited)} ms before this node could serve it (write deadline ${this.options.writeDeadlineMs} ms): not written, as its client may have given up`,
      );
    }
  }

  /**
   * Before this node stores the replica writes it was sent (REPLICATE, or the `records` of
   * a REPLICATE_BATCH, refused together).
   * @throws ReplyError `CLOCKSKEW` while fenced
   */
  beforeReplicaWrite(records = 1): void {
    if (this.fencedBy) {
      this.options.metrics?.counters.writesFenced.inc(records);
      throw new ReplyError(
        `${ErrorCode.CLOCKSKEW} this replica's clock is ${describeOffset(this.fencedBy)} off the cluster's (bound ${this.maxOffsetMs} ms)`,
      );
    }
  }

  /**
   * How long to wait before answering that a write stamped `ts` failed: until this node's
   * clock is twice the bound past the stamp, so every node's clock is past it and any write
   * the client sends after hearing of the failure is stamped later and wins.
   */
  failureWaitMs(ts: number): number {
    return Math.max(0, wallOf(ts) + 2 * this.maxOffsetMs - Math.floor(this.now()));
  }
}

function describeOffset(verdict: ClockVerdict): string {
  const ms = Math.round(verdict.offsetMs);
  return `${ms >= 0 ? '+' : ''}${ms} ms`;
}

function unavailableWhileFenced(verdict: ClockVerdict, bound: number): ReplyError {
  return new ReplyError(
    `${ErrorCode.UNAVAILABLE} this node's clock is ${describeOffset(verdict)} off the cluster's (bound ${bound} ms): it coordinates no write until its clock is back in bounds`,
  );
}
