import { parseAddress } from '@kv/protocol';
import { ConfigError } from './errors';

/** Where a coordinator keeps membership, as `--store` names it. */
export type StoreLocation =
  | { readonly kind: 'file' }
  | {
      readonly kind: 'etcd';
      /** `host:port` of each etcd member to try, in order. */
      readonly endpoints: readonly string[];
      /** Prefix of every key the coordinators write, `/kv/` by default; ends with `/`. */
      readonly prefix: string;
    };

/** The key prefix when `--store etcd://...` names no path. */
export const DEFAULT_ETCD_PREFIX = '/kv/';

/**
 * Reads `--store`: `file` (the state file under `--data-dir`, or memory without one) or
 * `etcd://host:port[,host:port...][/prefix]`.
 * @throws {@link ConfigError} naming `name` for anything else
 */
export function parseStoreLocation(value: unknown, name: string): StoreLocation {
  const text = typeof value === 'string' ? value.trim() : '';
  if (text === 'file') return { kind: 'file' };
  const match = /^etcd:\/\/([^/]+)(\/.*)?$/.exec(text);
  const usage = `${name} must be file or etcd://host:port[,host:port...][/prefix], got ${JSON.stringify(value)}`;
  if (!match) throw new ConfigError(usage, name);
  const endpoints = (match[1] as string).split(',').map((address) => address.trim());
  for (const address of endpoints) {
    if (parseAddress(address) === undefined)
      throw new ConfigError(`${usage}: '${address}' is not host:port`, name);
  }
  const path = (match[2] ?? DEFAULT_ETCD_PREFIX).replace(/\/*$/, '/');
  if (path === '/' || /[\s\0]/.test(path))
    throw new ConfigError(`${usage}: the key prefix must be a path like /kv`, name);
  return { kind: 'etcd', endpoints, prefix: path };
}
