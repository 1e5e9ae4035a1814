import { LoopWatch, type CommandArg, type RespValue } from '@kv/protocol';
import type { Logger } from 'winston';
import { ClockOffsetMonitor } from './clock-offset';
import { ClockSampler } from './clock-sampler';
import { HybridLogicalClock } from './hlc';
import type { NodeMetrics } from './metrics';
import { WriteGate } from './write-gate';

/** Options of {@link ClockFence}. */
export interface ClockFenceOptions {
  readonly maxOffsetMs: number;
  readonly writeDeadlineMs: number;
  /** How often a clock is measured (the coordinator's and one peer's each time). */
  readonly intervalMs: number;
  /** The coordinator, `host:port`. */
  readonly coordinator: string;
  /** The other members, measured in turn. */
  readonly peers: () => readonly string[];
  /** Sends a command to a member or the coordinator. */
  readonly send: (target: string, args: CommandArg[]) => Promise<RespValue>;
  readonly metrics: NodeMetrics;
  readonly logger: Logger;
  /** @default Date.now */
  readonly wallClock?: () => number;
  /** A stall (pause) longer than this marks the node's copy stale (the replica timeout). */
  readonly staleAfterStallMs: number;
  /** Told when the node's copy may have missed writes (see {@link WriteGate.markStale}). */
  readonly onStale?: () => void;
}

/**
 * A node's clock and what keeps it honest: the hybrid clock (which admits no version
 * further ahead than the bound), the measurement of the coordinator's and the peers'
 * clocks, the event-loop watch that tells how long a request waited, and the
 * {@link WriteGate} built on both.
 */
export class ClockFence {
  readonly clock: HybridLogicalClock;
  readonly gate: WriteGate;
  private readonly loop: LoopWatch;
  private readonly sampler: ClockSampler;
  private timer: NodeJS.Timeout | undefined;
  private sampling = false;

  constructor(private readonly options: ClockFenceOptions) {
    const wallClock = options.wallClock ?? Date.now;
    // A stall longer than a replica waits means writes went elsewhere meanwhile.
    this.loop = new LoopWatch(
      undefined,
      undefined,
      () => this.gate.markStale(),
      options.staleAfterStallMs,
    );
    this.clock = new HybridLogicalClock(wallClock, options.maxOffsetMs);
    const monitor = new ClockOffsetMonitor({
      maxOffsetMs: options.maxOffsetMs,
      maxAgeMs: Math.max(10 * options.intervalMs, 10_000),
    });
    this.sampler = new ClockSampler({ monitor, send: options.send, now: wallClock });
    this.gate = new WriteGate({
      monitor,
      waited: () => this.loop.waited(),
      writeDeadlineMs: options.writeDeadlineMs,
      now: wallClock,
      metrics: options.metrics,
      onStale: options.onStale,
      onFenceChange: (verdict) => {
        const offset = `${verdict.offsetMs >= 0 ? '+' : ''}${Math.round(verdict.offsetMs)} ms`;
        if (verdict.fenced)
          options.logger.error(
            `Clock out of bounds: ${offset} off the cluster (bound ${options.maxOffsetMs} ms, ${verdict.beyond} of ${verdict.sources} members measured agree); this node stamps no write and acknowledges no replica write until it is back in bounds`,
          );
        else options.logger.warn(`Clock back in bounds (${offset}): writes resume`);
      },
    });
  }

  /** Measures once, then keeps measuring every interval; the timers do not keep the process alive. */
  async start(): Promise<void> {
    this.loop.start();
    await this.sampleOnce();
    this.timer = setInterval(() => void this.sampleOnce(), this.options.intervalMs);
    this.timer.unref();
  }

  /** Stops measuring. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.loop.stop();
  }

  /** Measures once now unless a measurement already succeeded. */
  async ensureMeasured(): Promise<void> {
    if (!this.gate.measured) await this.sampleOnce();
  }

  /** Measures the coordinator's clock and the next peer's, then re-reads the verdict. */
  async sampleOnce(): Promise<void> {
    if (this.sampling) return;
    this.sampling = true;
    try {
      await Promise.all([
        this.sampler.sample(this.options.coordinator),
        this.sampler.sampleNext(this.options.peers()),
      ]);
      this.gate.update();
    } finally {
      this.sampling = false;
    }
  }
}
