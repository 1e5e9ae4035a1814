import { formatCount } from './bench-report';
import type { BenchPhase, ProgressSnapshot } from './bench-runner';

/** A stream progress is shown on: a bar when it is a terminal, plain lines otherwise. */
export interface ProgressStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

/** Options of {@link BenchProgress}. */
export interface ProgressOptions {
  /**
   * Least time between two plain lines (when the stream is not a terminal), in
   * milliseconds; a new phase is always announced.
   * @default 2000
   */
  readonly lineIntervalMs?: number;
}

const PHASE_NAMES: { readonly [P in BenchPhase]: string } = {
  load: 'loading',
  warmup: 'warm-up',
  measure: 'measuring',
};

const BAR_WIDTH = 24;

/**
 * Shows a run's progress: on a terminal one bar redrawn in place, which {@link finish}
 * erases so the report starts on a clean line; on anything else (a file, a pipe, CI logs)
 * a plain line when a phase begins and every few seconds after, never redrawn.
 */
export class BenchProgress {
  private readonly stream: ProgressStream;
  private readonly lineIntervalMs: number;
  private phase: BenchPhase | undefined;
  private lastLineAt = Number.NEGATIVE_INFINITY;
  private drawn = false;

  constructor(stream: ProgressStream, options: ProgressOptions = {}) {
    this.stream = stream;
    this.lineIntervalMs = options.lineIntervalMs ?? 2000;
  }

  /** Shows `snapshot`. */
  update(snapshot: ProgressSnapshot): void {
    if (this.stream.isTTY === true) {
      this.stream.write(`\r${this.bar(snapshot)}\u001b[K`);
      this.drawn = true;
      return;
    }
    const newPhase = snapshot.phase !== this.phase;
    this.phase = snapshot.phase;
    if (!newPhase && snapshot.elapsedMs - this.lastLineAt < this.lineIntervalMs) return;
    this.lastLineAt = newPhase ? 0 : snapshot.elapsedMs;
    this.stream.write(`kv bench: ${describe(snapshot)}\n`);
  }

  /** Erases the bar, if one is shown. */
  finish(): void {
    if (this.drawn) this.stream.write('\r\u001b[K');
    this.drawn = false;
  }

  private bar(s: ProgressSnapshot): string {
    const share = fraction(s);
    const width = Math.max(0, Math.min(BAR_WIDTH, (this.stream.columns ?? 80) - 60));
    const filled = share === undefined ? 0 : Math.round(share * width);
    const bar = width > 0 ? `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ` : '';
    const percent = share === undefined ? '' : `${Math.floor(share * 100)}% `.padStart(5);
    return `${PHASE_NAMES[s.phase].padEnd(9)} ${bar}${percent}${details(s)}`;
  }
}

/** How far the phase is, from 0 to 1, when it has a planned end. */
function fraction(s: ProgressSnapshot): number | undefined {
  if (s.total !== undefined) return s.total > 0 ? Math.min(1, s.done / s.total) : 1;
  if (s.plannedMs !== undefined)
    return s.plannedMs > 0 ? Math.min(1, s.elapsedMs / s.plannedMs) : 1;
  return undefined;
}

function describe(s: ProgressSnapshot): string {
  return `${PHASE_NAMES[s.phase]}: ${details(s)}`;
}

function details(s: ProgressSnapshot): string {
  const seconds = s.elapsedMs / 1000;
  const done =
    s.total === undefined ? formatCount(s.done) : `${formatCount(s.done)}/${formatCount(s.total)}`;
  const time =
    s.plannedMs === undefined
      ? `${seconds.toFixed(1)} s`
      : `${seconds.toFixed(1)}/${(s.plannedMs / 1000).toFixed(1)} s`;
  const rate = seconds > 0 ? s.done / seconds : 0;
  const errors = s.errors === 1 ? '1 error' : `${formatCount(s.errors)} errors`;
  return `${time}, ${done} operations, ${formatCount(rate)} ops/s, ${errors}`;
}
