import { parseCommandLine } from '../cli-parser';
import { UsageError } from '../errors';
import { parseBenchOptions, type BenchOptions } from './bench-options';

/** `kv bench <argv>` through the real command-line parser, then the bench options. */
function options(argv: string[]): BenchOptions {
  const invocation = parseCommandLine(['bench', ...argv], {});
  if (invocation.kind !== 'run' || invocation.command !== 'bench') {
    throw new Error('expected kv bench to run');
  }
  return parseBenchOptions(invocation.args);
}

describe('kv bench options', () => {
  it('has defaults for everything', () => {
    expect(options([])).toEqual({
      workload: 'a',
      keys: 100_000,
      distribution: 'zipfian',
      valueSize: 100,
      concurrency: 50,
      pipeline: 1,
      durationMs: 10_000,
      operations: undefined,
      warmupMs: 1000,
      load: true,
      seed: undefined,
    });
  });

  it('reads every flag', () => {
    expect(
      options([
        '-w',
        'b',
        '--keys',
        '500',
        '--distribution',
        'uniform',
        '--value-size',
        '0',
        '--concurrency',
        '4',
        '--pipeline',
        '16',
        '--duration',
        '2.5',
        '--warmup',
        '0',
        '--no-load',
        '--seed',
        '7',
      ]),
    ).toEqual({
      workload: 'b',
      keys: 500,
      distribution: 'uniform',
      valueSize: 0,
      concurrency: 4,
      pipeline: 16,
      durationMs: 2500,
      operations: undefined,
      warmupMs: 0,
      load: false,
      seed: 7,
    });
    expect(options(['--workload', 'c', '--operations', '1000'])).toMatchObject({
      workload: 'c',
      durationMs: undefined,
      operations: 1000,
    });
  });

  it('loads the key space for workloads that read, unless told otherwise', () => {
    expect(options(['-w', 'c']).load).toBe(true);
    expect(options(['-w', 'w']).load).toBe(false);
    expect(options(['-w', 'w', '--load']).load).toBe(true);
    expect(options(['-w', 'a', '--no-load']).load).toBe(false);
  });

  it.each([
    [
      ['-w', 'x'],
      '--workload must be one of a (50% read / 50% update), b (95% read / 5% update), ' +
        'c (read only), w (write only); got "x"',
    ],
    [['--workload', 'A'], /^--workload must be one of a .*; got "A"$/],
    [
      ['--distribution', 'latest'],
      '--distribution must be one of uniform or zipfian; got "latest"',
    ],
    [['--keys', '0'], '--keys must be an integer of at least 1, got "0"'],
    [['--concurrency', '-3'], '--concurrency must be an integer from 1 to 100000, got "-3"'],
    [['--pipeline', 'x'], '--pipeline must be an integer from 1 to 100000, got "x"'],
    [
      ['--concurrency', '1000', '--pipeline', '1000'],
      '--concurrency × --pipeline must be at most 100000, got 1000 × 1000',
    ],
    [
      ['--value-size', '9000000'],
      '--value-size must be an integer from 0 to 8388608, got "9000000"',
    ],
    [['--duration', '0'], '--duration must be a number of seconds greater than 0, got "0"'],
    [['--duration', '1s'], '--duration must be a number of seconds greater than 0, got "1s"'],
    [['--warmup', '-1'], '--warmup must be a number of seconds of at least 0, got "-1"'],
    [['--operations', '0'], '--operations must be an integer of at least 1, got "0"'],
    [['--duration', '5', '--operations', '100'], 'give --duration or --operations, not both'],
    [['--load', '--no-load'], 'give --load or --no-load, not both'],
  ])('rejects %j', (argv, message) => {
    const attempt = () => options(argv);
    expect(attempt).toThrow(UsageError);
    expect(attempt).toThrow(message);
  });

  it('rejects an unknown flag and a stray argument in the parser', () => {
    expect(() => options(['--rate', '5'])).toThrow(
      new UsageError('Unknown argument: rate (see kv --help)'),
    );
    expect(() => options(['a'])).toThrow(new UsageError('Unknown argument: a (see kv --help)'));
  });
});
