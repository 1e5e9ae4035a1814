import type { BenchOptions } from './bench-options';
import { benchReport, formatBenchReport, formatCount } from './bench-report';
import type { BenchRun } from './bench-runner';
import { LatencyHistogram } from './histogram';

const options: BenchOptions = {
  workload: 'a',
  keys: 100_000,
  distribution: 'zipfian',
  valueSize: 100,
  concurrency: 50,
  pipeline: 1,
  durationMs: 2000,
  operations: undefined,
  warmupMs: 1000,
  load: true,
  seed: undefined,
};

/** Latencies in microseconds. */
function histogram(values: number[]): LatencyHistogram {
  const h = new LatencyHistogram();
  for (const v of values) h.record(v);
  return h;
}

function run(overrides: Partial<BenchRun> = {}): BenchRun {
  const read = histogram([1000, 1000, 2000, 40_000]);
  const update = histogram([3000, 5000]);
  const all = histogram([]);
  all.add(read);
  all.add(update);
  return {
    options,
    load: { keys: 99_998, ms: 4000, errorsByKind: { UNAVAILABLE: 2 } },
    measured: {
      ms: 2000,
      operations: 6,
      latency: all,
      byOperation: { read, update },
      misses: 1,
      errorsByKind: { UNAVAILABLE: 3, ClusterUnavailableError: 1 },
    },
    interrupted: false,
    ...overrides,
  };
}

describe('benchReport', () => {
  it('gives throughput, latency percentiles in ms, and errors by kind', () => {
    // Percentiles are the top of the histogram bucket holding them (2000 µs -> 2.007 ms),
    // never above the largest latency recorded.
    const report = benchReport(run());
    expect(report).toEqual({
      config: { ...options, durationMs: 2000, operations: null, seed: null },
      load: {
        keys: 99_998,
        seconds: 4,
        opsPerSec: 25_000,
        errors: 2,
        errorsByKind: { UNAVAILABLE: 2 },
      },
      seconds: 2,
      operations: 6,
      opsPerSec: 3,
      latencyMs: { min: 1, mean: 8.667, p50: 2.007, p95: 40, p99: 40, p999: 40, max: 40 },
      byOperation: {
        read: {
          operations: 4,
          opsPerSec: 2,
          latencyMs: { min: 1, mean: 11, p50: 1.003, p95: 40, p99: 40, p999: 40, max: 40 },
        },
        update: {
          operations: 2,
          opsPerSec: 1,
          latencyMs: { min: 3, mean: 4, p50: 3.007, p95: 5, p99: 5, p999: 5, max: 5 },
        },
      },
      misses: 1,
      errors: 4,
      errorsByKind: { UNAVAILABLE: 3, ClusterUnavailableError: 1 },
      interrupted: false,
    });
    // Every number survives JSON (no undefined fields dropped).
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });

  it('reports zeros when nothing was measured', () => {
    const report = benchReport(run({ load: undefined, measured: undefined, interrupted: true }));
    expect(report).toMatchObject({
      load: null,
      seconds: 0,
      operations: 0,
      opsPerSec: 0,
      errors: 0,
      interrupted: true,
      latencyMs: { p50: 0, max: 0 },
    });
  });
});

describe('formatBenchReport', () => {
  it('prints the setup, throughput, a latency table and the errors', () => {
    expect(formatBenchReport(benchReport(run()))).toEqual([
      'kv bench: workload a (50% read / 50% update), 100,000 keys (zipfian), 100-byte values, 50 workers × 1 in flight',
      'loaded 99,998 keys in 4.0 s (25,000 ops/s), 2 failed: UNAVAILABLE 2',
      'throughput: 3 ops/s (6 operations in 2.0 s)',
      'latency ms   p50   p95   p99  p99.9   max',
      'all         2.01  40.0  40.0   40.0  40.0',
      'read        1.00  40.0  40.0   40.0  40.0',
      'update      3.01  5.00  5.00   5.00  5.00',
      'reads of missing keys: 1',
      'errors: 4 (UNAVAILABLE 3, ClusterUnavailableError 1)',
    ]);
  });

  it('leaves out the rows and lines that have nothing to say', () => {
    const read = histogram([250, 120_000]);
    const lines = formatBenchReport(
      benchReport(
        run({
          options: { ...options, workload: 'c' },
          load: undefined,
          measured: {
            ms: 1000,
            operations: 2,
            latency: read,
            byOperation: { read, update: new LatencyHistogram() },
            misses: 0,
            errorsByKind: {},
          },
          interrupted: true,
        }),
      ),
    );
    expect(lines.slice(1)).toEqual([
      'interrupted: the figures cover what ran before Ctrl-C',
      'throughput: 2 ops/s (2 operations in 1.0 s)',
      'latency ms    p50  p95  p99  p99.9  max',
      'all         0.250  120  120    120  120',
      'errors: none',
    ]);
  });

  it('formats counts with separators', () => {
    expect(formatCount(1234567.8)).toBe('1,234,568');
  });
});
