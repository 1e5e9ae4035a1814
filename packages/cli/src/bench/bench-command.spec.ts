import { closedPort, startTestCluster, type TestCluster } from '../test-support/local-cluster';
import { linesOf, runKv } from '../test-support/kv-binary';
import type { BenchReport } from './bench-report';

// The built `kv bench`, run as a user runs it, against servers started in this process.
// Short runs: the point is what is reported, not how fast anything is.

describe('kv bench against a cluster', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startTestCluster(3);
  });
  afterAll(async () => {
    await cluster.close();
  });

  it('measures a short run and prints one JSON document', async () => {
    const { code, stdout, stderr } = await runKv([
      '--coordinator',
      cluster.address,
      'bench',
      '--duration',
      '1',
      '--keys',
      '100',
      '--concurrency',
      '4',
      '--json',
    ]);
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as BenchReport;
    expect(report).toEqual({
      config: {
        workload: 'a',
        keys: 100,
        distribution: 'zipfian',
        valueSize: 100,
        concurrency: 4,
        pipeline: 1,
        durationMs: 1000,
        operations: null,
        warmupMs: 1000,
        load: true,
        seed: null,
      },
      load: {
        keys: 100,
        seconds: expect.any(Number),
        opsPerSec: expect.any(Number),
        errors: 0,
        errorsByKind: {},
      },
      seconds: expect.any(Number),
      operations: expect.any(Number),
      opsPerSec: expect.any(Number),
      latencyMs: latencyShape(),
      byOperation: {
        read: {
          operations: expect.any(Number),
          opsPerSec: expect.any(Number),
          latencyMs: latencyShape(),
        },
        update: {
          operations: expect.any(Number),
          opsPerSec: expect.any(Number),
          latencyMs: latencyShape(),
        },
      },
      misses: 0,
      errors: 0,
      errorsByKind: {},
      interrupted: false,
    });
    expect(report.operations).toBeGreaterThan(0);
    expect(report.opsPerSec).toBeGreaterThan(0);
    expect(report.byOperation.read.operations).toBeGreaterThan(0);
    expect(report.byOperation.update.operations).toBeGreaterThan(0);
    expect(report.byOperation.read.operations + report.byOperation.update.operations).toBe(
      report.operations,
    );
    const l = report.latencyMs;
    expect(l.min <= l.p50 && l.p50 <= l.p95 && l.p95 <= l.p99 && l.p99 <= l.p999).toBe(true);
    expect(l.p999 <= l.max && l.max > 0).toBe(true);
    // stderr is not a terminal here: plain progress lines, one per phase at least.
    const progress = linesOf(stderr);
    expect(progress.some((line) => line.startsWith('kv bench: loading: '))).toBe(true);
    expect(progress.some((line) => line.startsWith('kv bench: measuring: '))).toBe(true);
  });

  it('prints the report for people, here for a number of writes', async () => {
    const { code, stdout } = await runKv([
      '--coordinator',
      cluster.address,
      'bench',
      '-w',
      'w',
      '--operations',
      '300',
      '--keys',
      '100',
      '--concurrency',
      '4',
      '--pipeline',
      '2',
      '--warmup',
      '0',
      '--distribution',
      'uniform',
    ]);
    expect(code).toBe(0);
    const lines = linesOf(stdout);
    expect(lines).toEqual([
      'kv bench: workload w (write only), 100 keys (uniform), 100-byte values, 4 workers × 2 in flight',
      expect.stringMatching(/^throughput: [\d,]+ ops\/s \(300 operations in \d+\.\d s\)$/),
      expect.stringMatching(/^latency ms +p50 +p95 +p99 +p99\.9 +max$/),
      expect.stringMatching(/^all( +[\d.]+){5}$/),
      'errors: none',
    ]);
  });
});

describe('kv bench without a cluster', () => {
  it('exits 3 with one line when the coordinator is not running', async () => {
    const port = await closedPort();
    const { code, stdout, stderr } = await runKv([
      '--coordinator',
      `127.0.0.1:${port}`,
      'bench',
      '--duration',
      '1',
    ]);
    expect(code).toBe(3);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      `kv: cannot reach coordinator at 127.0.0.1:${port} (ECONNREFUSED): is it running?\n`,
    );
  });

  it('exits 2 with a clear message for a bad workload, and lists bench in the help', async () => {
    const [bad, help, top] = await Promise.all([
      runKv(['bench', '--workload', 'z']),
      runKv(['bench', '--help']),
      runKv(['--help']),
    ]);
    expect(bad).toEqual({
      code: 2,
      signal: null,
      stdout: '',
      stderr:
        'kv: --workload must be one of a (50% read / 50% update), b (95% read / 5% update), ' +
        'c (read only), w (write only); got "z"\n',
    });
    expect(top.stdout).toContain('kv bench');
    expect(help.code).toBe(0);
    for (const flag of [
      '--workload',
      '--distribution',
      '--pipeline',
      '--operations',
      '--no-load',
    ]) {
      expect(help.stdout).toContain(flag);
    }
  });
});

function latencyShape(): Record<string, unknown> {
  const n = expect.any(Number) as unknown;
  return { min: n, mean: n, p50: n, p95: n, p99: n, p999: n, max: n };
}
