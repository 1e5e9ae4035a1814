import { UsageError } from './errors';

/**
 * An integer flag of at least `min`, or undefined if it was not given.
 * @throws {@link UsageError} for anything else
 */
export function optionalInteger(
  args: Readonly<Record<string, unknown>>,
  flag: string,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  const value = last(args[flag]);
  if (value === undefined) return undefined;
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
    throw new UsageError(`--${flag} must be an integer ${range}, got ${show(value)}`);
  }
  return n;
}

/**
 * `--ttl` in seconds (fractions allowed) as milliseconds, or undefined if not given.
 * @throws {@link UsageError} unless it is a number of at least 0.001
 */
export function ttlMsOf(args: Readonly<Record<string, unknown>>): number | undefined {
  const value = last(args['ttl']);
  if (value === undefined) return undefined;
  const seconds = typeof value === 'string' && /^\d+(\.\d+)?$/.test(value) ? Number(value) : NaN;
  const ms = Math.round(seconds * 1000);
  if (!Number.isSafeInteger(ms) || ms < 1) {
    throw new UsageError(`--ttl must be a number of seconds greater than 0, got ${show(value)}`);
  }
  return ms;
}

/** A repeated flag counts once, with its last value. */
export function last(value: unknown): unknown {
  return Array.isArray(value) ? value[value.length - 1] : value;
}

/** A flag's value for an error message, quoted if a string, cut to 60 characters. */
export function show(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
