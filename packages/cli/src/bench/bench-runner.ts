import { ReplyError } from '@kv/protocol';
import type { BenchOptions } from './bench-options';
import { LatencyHistogram } from './histogram';
import { seededRandom } from './seeded-random';
import { Workload, keyName, type Operation } from './workload';
import type { RandomSource } from './zipfian';

/** The part of the `@kv/client` client a benchmark uses. */
export interface BenchClient {
  put(key: string, value: Buffer): Promise<void>;
  get(key: string): Promise<Buffer | null>;
}

/** The stages of a run, in order; only `measure` is reported. */
export type BenchPhase = 'load' | 'warmup' | 'measure';

/** Where a run is, for a progress display. */
export interface ProgressSnapshot {
  readonly phase: BenchPhase;
  /** Operations finished in this phase, failed ones included. */
  readonly done: number;
  /** Operations the phase will run, when it is a count (loading; `--operations`). */
  readonly total: number | undefined;
  /** Time since the phase began, in milliseconds. */
  readonly elapsedMs: number;
  /** How long the phase runs, when it is timed (warm-up; `--duration`). */
  readonly plannedMs: number | undefined;
  /** Failed operations in this phase. */
  readonly errors: number;
}

/** What the measured phase saw. Latencies are in microseconds. */
export interface MeasuredPhase {
  /** From the start of the phase until its last operation finished, in milliseconds. */
  readonly ms: number;
  /** Operations that succeeded. */
  readonly operations: number;
  /** Successful operations and their latencies, all and by kind of operation. */
  readonly latency: LatencyHistogram;
  readonly byOperation: { readonly [O in Operation]: LatencyHistogram };
  /** Reads that found no value. */
  readonly misses: number;
  /** Failed operations by kind: the server's error code, or the error's class name. */
  readonly errorsByKind: Readonly<Record<string, number>>;
}

/** What loading the key space did. */
export interface LoadPhase {
  /** Keys written successfully. */
  readonly keys: number;
  readonly ms: number;
  readonly errorsByKind: Readonly<Record<string, number>>;
}

/** The outcome of {@link runBench}. */
export interface BenchRun {
  readonly options: BenchOptions;
  /** Undefined when the key space was not loaded. */
  readonly load: LoadPhase | undefined;
  /** Undefined when the run was stopped before measuring began. */
  readonly measured: MeasuredPhase | undefined;
  /** Whether `signal` stopped the run early. */
  readonly interrupted: boolean;
}

/** Options of {@link runBench} other than the benchmark's own. */
export interface RunHooks {
  /** Called when a phase begins and a few times a second after. */
  readonly onProgress?: (snapshot: ProgressSnapshot) => void;
  /** How often `onProgress` is called, in milliseconds. @default 200 */
  readonly progressIntervalMs?: number;
  /** Stops the run: nothing new is sent, what is in flight finishes, and the report covers what was measured. */
  readonly signal?: AbortSignal;
  /**
   * Uniform random source for keys and operations.
   * @default seeded with the options' `seed` when it has one, else Math.random
   */
  readonly random?: RandomSource;
  /** Monotonic clock in milliseconds. @default performance.now */
  readonly now?: () => number;
}

/** Keys are loaded with this many requests in flight when the run itself keeps fewer. */
export const MIN_LOAD_IN_FLIGHT = 64;

/**
 * The kind of a failed operation for the report: a node's error code (`UNAVAILABLE`,
 * `TIMEOUT`, ...) for an error reply, else the error's class name.
 */
export function errorKind(err: unknown): string {
  if (err instanceof ReplyError) return err.code;
  if (err instanceof Error) return err.name;
  return typeof err;
}

/**
 * Runs a benchmark: optionally writes every key of the key space, runs the workload
 * unmeasured for the warm-up, then measures it for a duration or a number of operations.
 * `concurrency × pipeline` requests are kept in flight throughout. Failed operations are
 * counted by kind and the run goes on; latencies are those of successful operations.
 */
export function runBench(
  client: BenchClient,
  options: BenchOptions,
  hooks: RunHooks = {},
): Promise<BenchRun> {
  return new Run(client, options, hooks).execute();
}

/** Counters of one phase. */
class PhaseStats {
  done = 0;
  succeeded = 0;
  misses = 0;
  errors = 0;
  readonly errorsByKind: Record<string, number> = {};
  readonly latency = new LatencyHistogram();
  readonly byOperation = { read: new LatencyHistogram(), update: new LatencyHistogram() };

  fail(err: unknown): void {
    this.done++;
    this.errors++;
    const kind = errorKind(err);
    this.errorsByKind[kind] = (this.errorsByKind[kind] ?? 0) + 1;
  }
}

class Run {
  private readonly value: Buffer;
  private readonly inFlight: number;
  private readonly now: () => number;
  private phase: BenchPhase = 'load';
  private phaseStart = 0;
  private stats = new PhaseStats();
  private total: number | undefined;
  private plannedMs: number | undefined;

  constructor(
    private readonly client: BenchClient,
    private readonly options: BenchOptions,
    private readonly hooks: RunHooks,
  ) {
    this.value = Buffer.alloc(options.valueSize, 'x');
    this.inFlight = options.concurrency * options.pipeline;
    this.now = hooks.now ?? (() => performance.now());
  }

  async execute(): Promise<BenchRun> {
    const { onProgress } = this.hooks;
    const timer = onProgress
      ? setInterval(() => onProgress(this.snapshot()), this.hooks.progressIntervalMs ?? 200)
      : undefined;
    try {
      const load = this.options.load ? await this.load() : undefined;
      const measured = this.stopped() ? undefined : await this.measure();
      return { options: this.options, load, measured, interrupted: this.stopped() };
    } finally {
      if (timer) clearInterval(timer);
    }
  }

  private stopped(): boolean {
    return this.hooks.signal?.aborted ?? false;
  }

  private snapshot(): ProgressSnapshot {
    return {
      phase: this.phase,
      done: this.stats.done,
      total: this.total,
      elapsedMs: this.now() - this.phaseStart,
      plannedMs: this.plannedMs,
      errors: this.stats.errors,
    };
  }

  private begin(phase: BenchPhase, total?: number, plannedMs?: number): PhaseStats {
    this.phase = phase;
    this.phaseStart = this.now();
    this.total = total;
    this.plannedMs = plannedMs;
    this.stats = new PhaseStats();
    // Announced at once, so a display shows each phase however short it is.
    this.hooks.onProgress?.(this.snapshot());
    return this.stats;
  }

  /** Writes keys 0 .. keys - 1, each once. */
  private async load(): Promise<LoadPhase> {
    const { keys } = this.options;
    const stats = this.begin('load', keys);
    let next = 0;
    await this.slots(Math.max(this.inFlight, MIN_LOAD_IN_FLIGHT), async () => {
      if (next >= keys || this.stopped()) return false;
      const key = keyName(next++);
      try {
        await this.client.put(key, this.value);
        stats.done++;
        stats.succeeded++;
      } catch (err) {
        stats.fail(err);
      }
      return true;
    });
    return {
      keys: stats.succeeded,
      ms: this.now() - this.phaseStart,
      errorsByKind: stats.errorsByKind,
    };
  }

  /**
   * Runs the warm-up and then the measured phase without stopping the workers in between,
   * so the measured phase starts at full load. An operation belongs to the phase in which
   * it was sent.
   */
  private async measure(): Promise<MeasuredPhase | undefined> {
    const { durationMs, operations, warmupMs } = this.options;
    const { seed } = this.options;
    const random = this.hooks.random ?? (seed === undefined ? Math.random : seededRandom(seed));
    const workload = new Workload({ ...this.options, random });
    let stats = this.begin('warmup', undefined, warmupMs);
    let sent = 0;
    let deadline = Number.POSITIVE_INFINITY;
    const startMeasuring = (): void => {
      stats = this.begin('measure', operations, durationMs);
      if (durationMs !== undefined) deadline = this.phaseStart + durationMs;
    };
    if (warmupMs === 0) startMeasuring();
    const warmupEnd = this.now() + warmupMs;
    await this.slots(this.inFlight, async () => {
      const now = this.now();
      if (this.phase === 'warmup' && now >= warmupEnd) startMeasuring();
      if (this.stopped() || now >= deadline) return false;
      const measuring = this.phase === 'measure';
      if (measuring && operations !== undefined && sent++ >= operations) return false;
      const own = stats;
      const { operation, key } = workload.next();
      try {
        const found =
          operation === 'read' ? (await this.client.get(key)) !== null : await this.put(key);
        const micros = (this.now() - now) * 1000;
        own.done++;
        own.succeeded++;
        if (!found) own.misses++;
        own.latency.record(micros);
        own.byOperation[operation].record(micros);
      } catch (err) {
        own.fail(err);
      }
      return true;
    });
    // Stopped during the warm-up: nothing was measured.
    if (this.phase !== 'measure') return undefined;
    return {
      ms: this.now() - this.phaseStart,
      operations: stats.succeeded,
      latency: stats.latency,
      byOperation: stats.byOperation,
      misses: stats.misses,
      errorsByKind: stats.errorsByKind,
    };
  }

  private async put(key: string): Promise<true> {
    await this.client.put(key, this.value);
    return true;
  }

  /** Runs `count` loops of `step` until each returns false. */
  private async slots(count: number, step: () => Promise<boolean>): Promise<void> {
    const loop = async (): Promise<void> => {
      while (await step()) {
        // Each step awaits the network, so the loops interleave.
      }
    };
    await Promise.all(Array.from({ length: count }, loop));
  }
}
