import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ExpositionError, parseExposition, sampleValue } from './exposition';

describe('parseExposition', () => {
  it("reads prom-client's output: types, help, labels with escapes, histograms", async () => {
    const registry = new Registry();
    const counter = new Counter({
      name: 'x_total',
      help: 'A counter.',
      labelNames: ['path'],
      registers: [registry],
    });
    counter.inc({ path: 'a "quoted"\\path\nnext' }, 3);
    new Gauge({ name: 'g', help: 'A gauge.', registers: [registry] }).set(-1.5e-3);
    const h = new Histogram({
      name: 'h_seconds',
      help: 'H.',
      buckets: [0.1, 1],
      registers: [registry],
    });
    h.observe(0.05);
    h.observe(5);
    const families = parseExposition(await registry.metrics());
    expect(families.get('x_total')).toMatchObject({ type: 'counter', help: 'A counter.' });
    expect(sampleValue(families, 'x_total', { path: 'a "quoted"\\path\nnext' })).toBe(3);
    expect(sampleValue(families, 'g')).toBe(-0.0015);
    expect(sampleValue(families, 'h_seconds_bucket', { le: '0.1' })).toBe(1);
    expect(sampleValue(families, 'h_seconds_bucket', { le: '+Inf' })).toBe(2);
    expect(sampleValue(families, 'h_seconds_count')).toBe(2);
    expect(sampleValue(families, 'h_seconds_sum')).toBeCloseTo(5.05);
    expect(sampleValue(families, 'missing')).toBeUndefined();
  });

  it('reads NaN and infinities in any case, and timestamps', () => {
    const families = parseExposition('# TYPE a gauge\na{x="1"} Nan\na{x="2"} +Inf 1700000000000\n');
    expect(sampleValue(families, 'a', { x: '1' })).toBeNaN();
    expect(sampleValue(families, 'a', { x: '2' })).toBe(Infinity);
  });

  it.each([
    ['a sample without a TYPE', 'a 1\n', 'line 1: a has no TYPE line'],
    ['a value that is no number', '# TYPE a gauge\na one\n', "line 2: value 'one' is not a number"],
    ['a bad metric name', '# TYPE a gauge\n1a 1\n', "bad metric name '1a'"],
    ['an unknown type', '# TYPE a meter\n', "unknown type 'meter'"],
    ['a series twice', '# TYPE a gauge\na{x="1"} 1\na{x="1"} 2\n', 'appears twice'],
    ['an unterminated label', '# TYPE a gauge\na{x="1} 1\n', 'unterminated label value'],
    ['a bad escape', '# TYPE a gauge\na{x="\\t"} 1\n', 'bad escape \\t'],
    ['a label twice', '# TYPE a gauge\na{x="1",x="2"} 1\n', 'label x twice'],
    ['junk after the value', '# TYPE a gauge\na 1 2 3\n', 'optional integer timestamp'],
    ['a TYPE after samples', '# TYPE a gauge\na 1\n# TYPE a gauge\n', 'TYPE of a after samples'],
    [
      'a histogram without +Inf',
      '# TYPE h histogram\nh_bucket{le="1"} 1\nh_count 1\nh_sum 1\n',
      '+Inf bucket missing',
    ],
    [
      'buckets that are not cumulative',
      '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="2"} 1\nh_bucket{le="+Inf"} 2\nh_count 2\n',
      'buckets not cumulative',
    ],
  ])('refuses %s', (_what, text, message) => {
    expect(() => parseExposition(text)).toThrow(ExpositionError);
    expect(() => parseExposition(text)).toThrow(message);
  });
});
