import { ReplyError } from '@kv/protocol';
import type { BenchOptions } from './bench-options';
import { errorKind, runBench, type BenchClient, type ProgressSnapshot } from './bench-runner';
import { seededRandom } from './seeded-random';

class NodeDownError extends Error {
  constructor() {
    super('node down');
    this.name = 'NodeDownError';
  }
}

/**
 * A client keeping values in a map, answering on a later turn of the event loop as a
 * socket would; it tracks how many requests are in flight and can fail chosen keys.
 */
class FakeClient implements BenchClient {
  readonly data = new Map<string, Buffer>();
  readonly puts: string[] = [];
  gets = 0;
  inFlight = 0;
  maxInFlight = 0;
  fail: (key: string) => Error | undefined = () => undefined;

  async put(key: string, value: Buffer): Promise<void> {
    await this.turn(key);
    this.puts.push(key);
    this.data.set(key, value);
  }

  async get(key: string): Promise<Buffer | null> {
    await this.turn(key);
    this.gets++;
    return this.data.get(key) ?? null;
  }

  private async turn(key: string): Promise<void> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await new Promise((resolve) => setImmediate(resolve));
      const error = this.fail(key);
      if (error) throw error;
    } finally {
      this.inFlight--;
    }
  }
}

const base: BenchOptions = {
  workload: 'a',
  keys: 200,
  distribution: 'uniform',
  valueSize: 10,
  concurrency: 4,
  pipeline: 2,
  durationMs: undefined,
  operations: 2000,
  warmupMs: 0,
  load: false,
  seed: undefined,
};

describe('runBench', () => {
  let client: FakeClient;
  beforeEach(() => {
    client = new FakeClient();
  });

  it('measures exactly --operations operations, mixed as the workload says', async () => {
    const run = await runBench(client, base, { random: seededRandom(1) });
    const m = run.measured;
    expect(m?.operations).toBe(2000);
    expect(m?.latency.count).toBe(2000);
    const reads = m?.byOperation.read.count ?? 0;
    const updates = m?.byOperation.update.count ?? 0;
    expect(reads + updates).toBe(2000);
    expect(Math.abs(reads / 2000 - 0.5)).toBeLessThan(0.05);
    expect(client.gets).toBe(reads);
    expect(client.puts).toHaveLength(updates);
    expect(run.interrupted).toBe(false);
    expect(run.load).toBeUndefined();
  });

  it('keeps concurrency × pipeline requests in flight', async () => {
    await runBench(client, { ...base, concurrency: 3, pipeline: 5 });
    expect(client.maxInFlight).toBe(15);
  });

  it('loads every key once before measuring, so reads find values', async () => {
    const run = await runBench(client, { ...base, workload: 'c', load: true });
    expect(run.load).toMatchObject({ keys: 200, errorsByKind: {} });
    expect(new Set(client.puts.slice(0, 200)).size).toBe(200);
    expect(client.data.get('bench:199')).toEqual(Buffer.alloc(10, 'x'));
    expect(run.measured?.misses).toBe(0);
    expect(run.measured?.byOperation.update.count).toBe(0);
  });

  it('counts reads of missing keys without a load', async () => {
    const run = await runBench(client, { ...base, workload: 'c' });
    expect(run.measured?.misses).toBe(2000);
  });

  it('counts failures by kind and goes on', async () => {
    client.fail = (key) =>
      key.endsWith('1')
        ? new ReplyError('UNAVAILABLE 1 of 2 replicas acknowledged')
        : key.endsWith('2')
          ? new NodeDownError()
          : undefined;
    const run = await runBench(client, { ...base, load: true });
    const kinds = run.measured?.errorsByKind ?? {};
    expect(Object.keys(kinds).sort()).toEqual(['NodeDownError', 'UNAVAILABLE']);
    const failed = (kinds['UNAVAILABLE'] ?? 0) + (kinds['NodeDownError'] ?? 0);
    // Keys ending in 1 or 2 are a fifth of the uniform key space.
    expect(Math.abs(failed / 2000 - 0.2)).toBeLessThan(0.05);
    expect(run.measured?.operations).toBe(2000 - failed);
    expect(run.load?.keys).toBe(160);
    expect(run.load?.errorsByKind).toEqual({ UNAVAILABLE: 20, NodeDownError: 20 });
  });

  it('does not measure the warm-up, and runs for the duration', async () => {
    const phases: string[] = [];
    const run = await runBench(
      client,
      { ...base, operations: undefined, durationMs: 150, warmupMs: 100, load: true },
      {
        progressIntervalMs: 10,
        onProgress: (s: ProgressSnapshot) => {
          if (phases[phases.length - 1] !== s.phase) phases.push(s.phase);
        },
      },
    );
    expect(phases).toEqual(['load', 'warmup', 'measure']);
    const measured = run.measured?.operations ?? 0;
    expect(measured).toBeGreaterThan(0);
    expect(client.gets + client.puts.length - 200).toBeGreaterThan(measured);
    expect(run.measured?.ms).toBeGreaterThanOrEqual(150);
  });

  it('stops early when aborted and reports what it measured', async () => {
    const stop = new AbortController();
    let measuring = 0;
    const run = await runBench(
      client,
      { ...base, operations: undefined, durationMs: 60_000 },
      {
        signal: stop.signal,
        progressIntervalMs: 5,
        onProgress: (s) => {
          if (s.phase === 'measure' && s.done > 0 && ++measuring === 3) stop.abort();
        },
      },
    );
    expect(run.interrupted).toBe(true);
    expect(run.measured?.operations).toBeGreaterThan(0);
    expect(client.inFlight).toBe(0);
  });

  it('measures nothing when aborted before measuring', async () => {
    const stop = new AbortController();
    stop.abort();
    const run = await runBench(client, { ...base, load: true }, { signal: stop.signal });
    expect(run).toMatchObject({ interrupted: true, measured: undefined, load: { keys: 0 } });
  });

  it('sends the same sequence for the same seed', async () => {
    const other = new FakeClient();
    await runBench(client, { ...base, concurrency: 1, pipeline: 1, seed: 5 });
    await runBench(other, { ...base, concurrency: 1, pipeline: 1, seed: 5 });
    expect(other.puts).toEqual(client.puts);
  });

  it('names errors by reply code or class', () => {
    expect(errorKind(new ReplyError('TIMEOUT replica did not answer'))).toBe('TIMEOUT');
    expect(errorKind(new NodeDownError())).toBe('NodeDownError');
    expect(errorKind('boom')).toBe('string');
  });
});
