/** One sample line of a Prometheus text exposition. */
export interface Sample {
  /** The sample's own name (`kv_request_duration_seconds_bucket`). */
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** A metric family: its `# TYPE`, `# HELP` and samples. */
export interface MetricFamily {
  readonly name: string;
  readonly type: string;
  readonly help: string;
  readonly samples: Sample[];
}

/** A line of an exposition that breaks the text format. */
export class ExpositionError extends Error {
  constructor(line: number, problem: string) {
    super(`metrics exposition line ${line}: ${problem}`);
    this.name = 'ExpositionError';
  }
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const SUFFIXES: Record<string, readonly string[]> = {
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['_sum', '_count'],
};

/**
 * Parses the Prometheus text exposition format (version 0.0.4) strictly: every sample
 * belongs to a family declared by `# TYPE` before it, names and labels are well formed,
 * label values use only the format's escapes, values are numbers, no series appears twice,
 * histograms have a `+Inf` bucket equal to their count and cumulative buckets.
 *
 * @throws {@link ExpositionError} naming the first line that breaks the format
 */
export function parseExposition(text: string): Map<string, MetricFamily> {
  const families = new Map<string, MetricFamily>();
  const seen = new Set<string>();
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  lines.forEach((line, index) => {
    const at = index + 1;
    if (line === '') return;
    if (line.startsWith('#')) {
      const [, keyword, name, ...rest] = line.split(' ');
      if (keyword !== 'HELP' && keyword !== 'TYPE') return;
      if (name === undefined || !NAME.test(name)) throw new ExpositionError(at, 'bad metric name');
      const family = families.get(name);
      if (keyword === 'TYPE') {
        const type = rest.join(' ');
        if (!TYPES.has(type)) throw new ExpositionError(at, `unknown type '${type}'`);
        if (family?.samples.length) throw new ExpositionError(at, `TYPE of ${name} after samples`);
        if (family && family.type !== 'untyped')
          throw new ExpositionError(at, `second TYPE for ${name}`);
        families.set(name, { name, type, help: family?.help ?? '', samples: [] });
      } else {
        families.set(name, {
          name,
          type: family?.type ?? 'untyped',
          help: rest.join(' '),
          samples: family?.samples ?? [],
        });
      }
      return;
    }
    const sample = parseSample(line, at);
    const family = familyOf(families, sample.name);
    if (family === undefined) throw new ExpositionError(at, `${sample.name} has no TYPE line`);
    const series = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
    if (seen.has(series)) throw new ExpositionError(at, `series ${series} appears twice`);
    seen.add(series);
    family.samples.push(sample);
  });
  for (const family of families.values()) if (family.type === 'histogram') checkHistogram(family);
  return families;
}

function familyOf(families: Map<string, MetricFamily>, name: string): MetricFamily | undefined {
  const exact = families.get(name);
  if (exact) return exact;
  for (const [type, suffixes] of Object.entries(SUFFIXES)) {
    for (const suffix of suffixes) {
      if (!name.endsWith(suffix)) continue;
      const family = families.get(name.slice(0, -suffix.length));
      if (family?.type === type) return family;
    }
  }
  return undefined;
}

function parseSample(line: string, at: number): Sample {
  const brace = line.indexOf('{');
  const space = line.indexOf(' ');
  let name: string;
  const labels: Record<string, string> = {};
  let rest: string;
  if (brace !== -1 && (space === -1 || brace < space)) {
    name = line.slice(0, brace);
    let i = brace + 1;
    while (line[i] !== '}') {
      const eq = line.indexOf('="', i);
      if (eq === -1) throw new ExpositionError(at, 'label without ="value"');
      const label = line.slice(i, eq);
      if (!LABEL.test(label)) throw new ExpositionError(at, `bad label name '${label}'`);
      if (Object.hasOwn(labels, label)) throw new ExpositionError(at, `label ${label} twice`);
      let value = '';
      for (i = eq + 2; line[i] !== '"'; i++) {
        if (i >= line.length) throw new ExpositionError(at, 'unterminated label value');
        if (line[i] === '\\') {
          const next = line[++i];
          if (next === 'n') value += '\n';
          else if (next === '\\' || next === '"') value += next;
          else throw new ExpositionError(at, `bad escape \\${next ?? ''}`);
        } else value += line[i];
      }
      labels[label] = value;
      i++;
      if (line[i] === ',') i++;
      else if (line[i] !== '}') throw new ExpositionError(at, 'expected , or } after a label');
    }
    rest = line.slice(i + 1);
    if (!rest.startsWith(' ')) throw new ExpositionError(at, 'no space before the value');
  } else {
    if (space === -1) throw new ExpositionError(at, 'sample without a value');
    name = line.slice(0, space);
    rest = line.slice(space);
  }
  if (!NAME.test(name)) throw new ExpositionError(at, `bad metric name '${name}'`);
  const parts = rest.trim().split(' ');
  if (parts.length > 2 || (parts[1] !== undefined && !/^-?\d+$/.test(parts[1])))
    throw new ExpositionError(at, 'expected a value and an optional integer timestamp');
  return { name, labels, value: parseValue(parts[0] as string, at) };
}

/** Values as Prometheus reads them (Go's ParseFloat): NaN and Inf in any case. */
function parseValue(text: string, at: number): number {
  const lower = text.toLowerCase();
  if (lower === '+inf' || lower === 'inf') return Infinity;
  if (lower === '-inf') return -Infinity;
  if (lower === 'nan') return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text))
    throw new ExpositionError(at, `value '${text}' is not a number`);
  return Number(text);
}

/** Buckets cumulative, a `+Inf` bucket per series, equal to its `_count`. */
function checkHistogram(family: MetricFamily): void {
  const series = new Map<string, { buckets: [number, number][]; count?: number }>();
  for (const sample of family.samples) {
    const { le, ...rest } = sample.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const entry = series.get(key) ?? { buckets: [] };
    series.set(key, entry);
    if (sample.name.endsWith('_bucket')) {
      if (le === undefined) throw new ExpositionError(0, `${sample.name} without le`);
      entry.buckets.push([le === '+Inf' ? Infinity : Number(le), sample.value]);
    } else if (sample.name.endsWith('_count')) entry.count = sample.value;
  }
  for (const [key, { buckets, count }] of series) {
    buckets.sort((a, b) => a[0] - b[0]);
    const last = buckets.at(-1);
    if (last?.[0] !== Infinity || last[1] !== count)
      throw new ExpositionError(0, `${family.name}${key}: +Inf bucket missing or not its count`);
    for (let i = 1; i < buckets.length; i++)
      if ((buckets[i] as [number, number])[1] < (buckets[i - 1] as [number, number])[1])
        throw new ExpositionError(0, `${family.name}${key}: buckets not cumulative`);
  }
}

/** The value of the sample `name` with exactly `labels`, or undefined. */
export function sampleValue(
  families: Map<string, MetricFamily>,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number | undefined {
  const family = familyOf(families, name);
  const wanted = Object.entries(labels);
  return family?.samples.find(
    (s) =>
      s.name === name &&
      Object.keys(s.labels).length === wanted.length &&
      wanted.every(([k, v]) => s.labels[k] === v),
  )?.value;
}
