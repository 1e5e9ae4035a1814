import type { BenchOptions } from './bench-options';
import type { BenchRun } from './bench-runner';
import type { HistogramSummary, LatencyHistogram } from './histogram';
import { OPERATIONS, WORKLOADS, type Operation } from './workload';

/** Latencies in milliseconds: the histogram's summary without the count. */
export type LatencyReport = Omit<HistogramSummary, 'count'>;

/** One kind of operation in a {@link BenchReport}. */
export interface OperationReport {
  readonly operations: number;
  readonly opsPerSec: number;
  readonly latencyMs: LatencyReport;
}

/** The JSON document `kv bench --json` prints. */
export interface BenchReport {
  /** The options the run used, defaults filled in; null for those not set. */
  readonly config: Omit<BenchOptions, 'durationMs' | 'operations' | 'seed'> & {
    readonly durationMs: number | null;
    readonly operations: number | null;
    readonly seed: number | null;
  };
  /** Loading of the key space, or null when it was not loaded. */
  readonly load: {
    readonly keys: number;
    readonly seconds: number;
    readonly opsPerSec: number;
    readonly errors: number;
    readonly errorsByKind: Readonly<Record<string, number>>;
  } | null;
  /** Length of the measured phase. */
  readonly seconds: number;
  /** Successful operations in the measured phase. */
  readonly operations: number;
  readonly opsPerSec: number;
  readonly latencyMs: LatencyReport;
  /** Reads and updates separately; an operation the workload does not run has 0 operations. */
  readonly byOperation: { readonly [O in Operation]: OperationReport };
  /** Reads that found no value. */
  readonly misses: number;
  /** Failed operations in the measured phase. */
  readonly errors: number;
  /** Failed operations by kind: the node's error code (`UNAVAILABLE`) or the error's class. */
  readonly errorsByKind: Readonly<Record<string, number>>;
  /** Whether Ctrl-C ended the run early. */
  readonly interrupted: boolean;
}

/** The report of a run as the JSON document of `kv bench --json`. */
export function benchReport(run: BenchRun): BenchReport {
  const { load, measured } = run;
  const seconds = measured ? measured.ms / 1000 : 0;
  const rate = (n: number): number => (seconds > 0 ? n / seconds : 0);
  const operation = (histogram: LatencyHistogram | undefined): OperationReport => ({
    operations: histogram?.count ?? 0,
    opsPerSec: rate(histogram?.count ?? 0),
    latencyMs: latencyMs(histogram),
  });
  const loadErrors = load ? sum(load.errorsByKind) : 0;
  return {
    config: {
      ...run.options,
      durationMs: run.options.durationMs ?? null,
      operations: run.options.operations ?? null,
      seed: run.options.seed ?? null,
    },
    load: load
      ? {
          keys: load.keys,
          seconds: load.ms / 1000,
          opsPerSec: load.ms > 0 ? (1000 * (load.keys + loadErrors)) / load.ms : 0,
          errors: loadErrors,
          errorsByKind: load.errorsByKind,
        }
      : null,
    seconds,
    operations: measured?.operations ?? 0,
    opsPerSec: rate(measured?.operations ?? 0),
    latencyMs: latencyMs(measured?.latency),
    byOperation: {
      read: operation(measured?.byOperation.read),
      update: operation(measured?.byOperation.update),
    },
    misses: measured?.misses ?? 0,
    errors: measured ? sum(measured.errorsByKind) : 0,
    errorsByKind: measured?.errorsByKind ?? {},
    interrupted: run.interrupted,
  };
}

/** The report of a run as the lines `kv bench` prints. */
export function formatBenchReport(report: BenchReport): string[] {
  const c = report.config;
  const lines = [
    `kv bench: workload ${c.workload} (${WORKLOADS[c.workload].description}), ` +
      `${formatCount(c.keys)} keys (${c.distribution}), ${formatCount(c.valueSize)}-byte values, ` +
      `${formatCount(c.concurrency)} workers × ${formatCount(c.pipeline)} in flight`,
  ];
  if (report.load) {
    const { keys, seconds, opsPerSec, errors, errorsByKind } = report.load;
    lines.push(
      `loaded ${formatCount(keys)} keys in ${seconds.toFixed(1)} s (${formatCount(opsPerSec)} ops/s)` +
        (errors > 0 ? `, ${formatCount(errors)} failed: ${formatKinds(errorsByKind)}` : ''),
    );
  }
  if (report.interrupted) lines.push('interrupted: the figures cover what ran before Ctrl-C');
  lines.push(
    `throughput: ${formatCount(report.opsPerSec)} ops/s ` +
      `(${formatCount(report.operations)} operations in ${report.seconds.toFixed(1)} s)`,
  );
  const rows: [string, LatencyReport][] = [['all', report.latencyMs]];
  const kinds = OPERATIONS.filter((o) => report.byOperation[o].operations > 0);
  if (kinds.length > 1) {
    for (const o of kinds) rows.push([o, report.byOperation[o].latencyMs]);
  }
  lines.push(...latencyTable(rows));
  if (report.misses > 0) lines.push(`reads of missing keys: ${formatCount(report.misses)}`);
  lines.push(
    report.errors === 0
      ? 'errors: none'
      : `errors: ${formatCount(report.errors)} (${formatKinds(report.errorsByKind)})`,
  );
  return lines;
}

/**
 * Latencies of a histogram in microseconds as milliseconds; all 0 for an empty or missing
 * one.
 */
function latencyMs(histogram: LatencyHistogram | undefined): LatencyReport {
  const s: HistogramSummary | undefined = histogram?.summary(1 / 1000);
  const ms = (x: number | undefined): number => Math.round((x ?? 0) * 1000) / 1000;
  return {
    min: ms(s?.min),
    mean: ms(s?.mean),
    p50: ms(s?.p50),
    p95: ms(s?.p95),
    p99: ms(s?.p99),
    p999: ms(s?.p999),
    max: ms(s?.max),
  };
}

const COLUMNS: readonly [string, keyof LatencyReport][] = [
  ['p50', 'p50'],
  ['p95', 'p95'],
  ['p99', 'p99'],
  ['p99.9', 'p999'],
  ['max', 'max'],
];

function latencyTable(rows: readonly [string, LatencyReport][]): string[] {
  const head = ['latency ms', ...COLUMNS.map(([title]) => title)];
  const body = rows.map(([name, l]) => [name, ...COLUMNS.map(([, key]) => milliseconds(l[key]))]);
  const widths = head.map((h, i) =>
    Math.max(h.length, ...body.map((r) => (r[i] as string).length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) =>
        i === 0 ? cell.padEnd(widths[i] as number) : cell.padStart(widths[i] as number),
      )
      .join('  ');
  return [line(head), ...body.map(line)];
}

/** Three significant digits, at most three decimals: 0.123, 1.23, 12.3, 123. */
function milliseconds(ms: number): string {
  if (ms >= 100) return ms.toFixed(0);
  if (ms >= 10) return ms.toFixed(1);
  if (ms >= 1) return ms.toFixed(2);
  return ms.toFixed(3);
}

/** A count or rate rounded to an integer, with thousands separators: 12,345. */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function formatKinds(kinds: Readonly<Record<string, number>>): string {
  return Object.entries(kinds)
    .sort(([, a], [, b]) => b - a)
    .map(([kind, n]) => `${kind} ${formatCount(n)}`)
    .join(', ');
}

function sum(kinds: Readonly<Record<string, number>>): number {
  return Object.values(kinds).reduce((a, b) => a + b, 0);
}
