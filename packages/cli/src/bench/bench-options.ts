import { last, optionalInteger } from '../cli-parser';
import { UsageError } from '../errors';
import { workloadChoices } from './bench-flags';
import {
  DISTRIBUTIONS,
  WORKLOADS,
  isDistribution,
  isWorkloadName,
  type Distribution,
  type WorkloadName,
} from './workload';

/** What `kv bench` runs, from its flags. */
export interface BenchOptions {
  /** @default 'a' */
  readonly workload: WorkloadName;
  /** Size of the key space. @default 100000 */
  readonly keys: number;
  /** @default 'zipfian' */
  readonly distribution: Distribution;
  /** Bytes per value written. @default 100 */
  readonly valueSize: number;
  /** Concurrent workers. @default 50 */
  readonly concurrency: number;
  /** Requests each worker keeps in flight. @default 1 */
  readonly pipeline: number;
  /**
   * Measure for this long, in milliseconds; undefined when `operations` is set.
   * @default 10000 when neither is given
   */
  readonly durationMs: number | undefined;
  /** Measure this many operations; undefined when `durationMs` is set. */
  readonly operations: number | undefined;
  /** Unmeasured run before measuring, in milliseconds. @default 1000 */
  readonly warmupMs: number;
  /**
   * Write every key of the key space before the warm-up, so reads find values.
   * @default true for workloads that read, false for `w`
   */
  readonly load: boolean;
  /** Seed of the key and operation choices; undefined for a different sequence each run. */
  readonly seed: number | undefined;
}

/** Largest value `kv bench` writes: a node's default `--max-value-bytes`. */
export const MAX_VALUE_SIZE = 8 * 1024 * 1024;

/** Most requests in flight at once (concurrency × pipeline), a bound on client memory. */
export const MAX_IN_FLIGHT = 100_000;

const DEFAULT_DURATION_MS = 10_000;

/**
 * Reads and checks `kv bench`'s flags.
 *
 * @throws {@link UsageError} naming the flag for a bad value, or for `--duration` with
 *   `--operations` and `--load` with `--no-load`
 */
export function parseBenchOptions(args: Readonly<Record<string, unknown>>): BenchOptions {
  const workload = choice(args, 'workload', 'a', isWorkloadName, workloadChoices());
  const distribution = choice(
    args,
    'distribution',
    'zipfian',
    isDistribution,
    DISTRIBUTIONS.join(' or '),
  );
  const concurrency = optionalInteger(args, 'concurrency', 1, MAX_IN_FLIGHT) ?? 50;
  const pipeline = optionalInteger(args, 'pipeline', 1, MAX_IN_FLIGHT) ?? 1;
  if (concurrency * pipeline > MAX_IN_FLIGHT) {
    throw new UsageError(
      `--concurrency × --pipeline must be at most ${MAX_IN_FLIGHT}, got ${concurrency} × ${pipeline}`,
    );
  }
  const duration = optionalSeconds(args, 'duration', false);
  const operations = optionalInteger(args, 'operations', 1);
  if (duration !== undefined && operations !== undefined) {
    throw new UsageError('give --duration or --operations, not both');
  }
  const load = flag(args, 'load');
  const noLoad = flag(args, 'no-load');
  if (load && noLoad) throw new UsageError('give --load or --no-load, not both');
  return {
    workload,
    keys: optionalInteger(args, 'keys', 1) ?? 100_000,
    distribution,
    valueSize: optionalInteger(args, 'value-size', 0, MAX_VALUE_SIZE) ?? 100,
    concurrency,
    pipeline,
    durationMs: operations === undefined ? (duration ?? DEFAULT_DURATION_MS) : undefined,
    operations,
    warmupMs: optionalSeconds(args, 'warmup', true) ?? 1000,
    load: load || (!noLoad && WORKLOADS[workload].readShare > 0),
    seed: optionalInteger(args, 'seed', 0, 2 ** 32 - 1),
  };
}

function choice<T extends string>(
  args: Readonly<Record<string, unknown>>,
  name: string,
  fallback: T,
  is: (text: string) => text is T,
  choices: string,
): T {
  const value = last(args[name]);
  if (value === undefined) return fallback;
  const text = String(value);
  if (!is(text)) {
    throw new UsageError(`--${name} must be one of ${choices}; got ${JSON.stringify(text)}`);
  }
  return text;
}

/** A number of seconds as milliseconds; `zero` allows 0. */
function optionalSeconds(
  args: Readonly<Record<string, unknown>>,
  name: string,
  zero: boolean,
): number | undefined {
  const value = last(args[name]);
  if (value === undefined) return undefined;
  const text = String(value);
  const ms = /^\d+(\.\d+)?$/.test(text) ? Math.round(Number(text) * 1000) : NaN;
  if (!Number.isSafeInteger(ms) || ms < (zero ? 0 : 1)) {
    const least = zero ? 'of at least 0' : 'greater than 0';
    throw new UsageError(
      `--${name} must be a number of seconds ${least}, got ${JSON.stringify(text)}`,
    );
  }
  return ms;
}

function flag(args: Readonly<Record<string, unknown>>, name: string): boolean {
  return last(args[name]) === true;
}
