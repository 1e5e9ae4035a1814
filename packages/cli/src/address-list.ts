import { parseAddress as splitAddress } from '@kv/protocol';
import { UsageError } from './errors';
import { show } from './option-values';

/**
 * Checks a list of `host:port` addresses separated by commas (spaces around them ignored,
 * repeats dropped).
 * @throws {@link UsageError} naming `source` for a bad address or an empty list
 */
export function parseAddressList(text: string, source: string): string[] {
  const parts = text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
  if (parts.length === 0) {
    throw new UsageError(`${source} must list host:port addresses, got ${show(text)}`);
  }
  return [...new Set(parts.map((part) => parseAddress(part, source)))];
}

/**
 * Checks a `host:port` address.
 * @throws {@link UsageError} naming `source` (the flag or variable it came from)
 */
export function parseAddress(text: string, source: string): string {
  const address = /^\S+:\d{1,5}$/.test(text) ? splitAddress(text) : undefined;
  if (!address) {
    throw new UsageError(`${source} must be host:port (e.g. 127.0.0.1:5000), got ${show(text)}`);
  }
  return text;
}
