import type { ProgressSnapshot } from './bench-runner';
import { BenchProgress } from './progress';

class Stream {
  text = '';
  constructor(
    readonly isTTY: boolean,
    readonly columns = 100,
  ) {}
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

const snapshot = (overrides: Partial<ProgressSnapshot>): ProgressSnapshot => ({
  phase: 'measure',
  done: 0,
  total: undefined,
  elapsedMs: 0,
  plannedMs: 10_000,
  errors: 0,
  ...overrides,
});

describe('BenchProgress', () => {
  it('draws one bar in place on a terminal and erases it when done', () => {
    const stream = new Stream(true);
    const progress = new BenchProgress(stream);
    progress.update(
      snapshot({
        phase: 'load',
        done: 25_000,
        total: 100_000,
        elapsedMs: 1000,
        plannedMs: undefined,
      }),
    );
    progress.update(snapshot({ done: 60_000, elapsedMs: 5000, errors: 1 }));
    progress.finish();
    expect(stream.text).toBe(
      '\rloading   [######------------------]  25% 1.0 s, 25,000/100,000 operations, 25,000 ops/s, 0 errors\u001b[K' +
        '\rmeasuring [############------------]  50% 5.0/10.0 s, 60,000 operations, 12,000 ops/s, 1 error\u001b[K' +
        '\r\u001b[K',
    );
  });

  it('leaves the bar out on a narrow terminal', () => {
    const stream = new Stream(true, 40);
    new BenchProgress(stream).update(
      snapshot({ phase: 'warmup', elapsedMs: 500, plannedMs: 1000 }),
    );
    expect(stream.text).toBe('\rwarm-up    50% 0.5/1.0 s, 0 operations, 0 ops/s, 0 errors\u001b[K');
  });

  it('writes plain lines elsewhere: each new phase, then every few seconds', () => {
    const stream = new Stream(false);
    const progress = new BenchProgress(stream, { lineIntervalMs: 2000 });
    progress.update(snapshot({ phase: 'warmup', elapsedMs: 0, plannedMs: 1000 }));
    progress.update(snapshot({ phase: 'warmup', elapsedMs: 800, plannedMs: 1000, done: 80 }));
    progress.update(snapshot({ elapsedMs: 0 }));
    for (const ms of [1000, 2000, 3000, 4100]) {
      progress.update(snapshot({ elapsedMs: ms, done: ms * 10 }));
    }
    progress.finish();
    expect(stream.text.split('\n')).toEqual([
      'kv bench: warm-up: 0.0/1.0 s, 0 operations, 0 ops/s, 0 errors',
      'kv bench: measuring: 0.0/10.0 s, 0 operations, 0 ops/s, 0 errors',
      'kv bench: measuring: 2.0/10.0 s, 20,000 operations, 10,000 ops/s, 0 errors',
      'kv bench: measuring: 4.1/10.0 s, 41,000 operations, 10,000 ops/s, 0 errors',
      '',
    ]);
  });
});
