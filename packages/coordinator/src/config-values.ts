import { parseAddress } from '@kv/protocol';
import { ConfigError } from './errors';

// How the coordinator's options read their values: each parser names the option in its
// error, as the command line and the environment spell it.

/** Largest timer delay Node.js accepts (about 24.8 days). */
export const MAX_DELAY_MS = 2 ** 31 - 1;

export type Parse<T> = (value: unknown, name: string) => T;

export interface OptionSpec<T> {
  readonly flag: string;
  /** A switch that takes no value (`--insecure`, `--tls-client-certs`). */
  readonly boolean?: true;
  readonly describe: string;
  readonly default: T;
  /** How `--help` shows the default, when `String(default)` would not do. */
  readonly defaultText?: string;
  readonly parse: Parse<T>;
}

export function integer(min: number, max: number): Parse<number> {
  return (value, name) => {
    const n = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
      throw new ConfigError(
        `${name} must be an integer from ${min} to ${max}, got ${show(value)}`,
        name,
      );
    }
    return n;
  };
}

export function text(what: string): Parse<string> {
  return (value, name) => {
    if (typeof value !== 'string' || value.length === 0) {
      throw new ConfigError(`${name} must be ${what}, got ${show(value)}`, name);
    }
    return value;
  };
}

export function oneOf<T extends string>(choices: readonly T[]): Parse<T> {
  return (value, name) => {
    if (!choices.includes(value as T)) {
      throw new ConfigError(
        `${name} must be one of ${choices.join(', ')}, got ${show(value)}`,
        name,
      );
    }
    return value as T;
  };
}

export const directory = text('a directory path');

/** `host:port`, the port an integer from 1 to 65535. */
export function address(value: unknown, name: string): string {
  if (typeof value !== 'string' || parseAddress(value) === undefined)
    throw new ConfigError(`${name} must be host:port, got ${show(value)}`, name);
  return value;
}
export const file = text('a file path');

export function optional<T>(parse: Parse<T>): Parse<T | undefined> {
  return (value, name) => (value === undefined ? undefined : parse(value, name));
}

/** A switch: true or false, or as a variable `true`/`1`/`yes` or `false`/`0`/`no`. */
export function flag(value: unknown, name: string): boolean {
  if (typeof value === 'boolean') return value;
  const word = typeof value === 'string' ? value.trim().toLowerCase() : undefined;
  if (word === 'true' || word === '1' || word === 'yes') return true;
  if (word === 'false' || word === '0' || word === 'no') return false;
  throw new ConfigError(`${name} must be true or false, got ${show(value)}`, name);
}

/** A value as an error message quotes it, cut to 60 characters. */
export function show(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
