import { parseAddress, type TlsClientOptions } from '@kv/protocol';
import { InvalidClientOptionError } from './errors';

/** Options of `createClient`. */
export interface ClientOptions {
  /**
   * The coordinator, `host:port`, or several (an array, or addresses separated by commas),
   * asked in this order. Asked for the ring once, then only to learn of changes; the first
   * that answers is authoritative: its ring is taken whatever its epoch.
   * @default '127.0.0.1:5000', unless `seeds` are given: then none
   */
  coordinator?: string | readonly string[];
  /**
   * Other members to learn the ring from when no coordinator answers: nodes or
   * coordinators, `host:port`, an array or separated by commas. Every node answers `RING`
   * with the ring it routes with; a seed's ring is taken only if it is newer than the one
   * held. After the seeds, the nodes of the ring held are asked.
   * @default none
   */
  seeds?: string | readonly string[];
  /**
   * Time to wait for a connection to a node or the coordinator.
   * @default 1000
   */
  connectTimeoutMs?: number;
  /**
   * Time to wait for each reply. A node coordinating a write waits up to its replica
   * timeout (1 s by default) for replicas, so this should be longer than that.
   * @default 5000
   */
  requestTimeoutMs?: number;
  /**
   * Extra rounds over a key's nodes after every one of them failed, each after a backoff
   * and a ring refresh.
   * @default 2
   */
  retries?: number;
  /**
   * First backoff before a retry round; doubles each round, up to 2 s, with jitter.
   * @default 100
   */
  retryBackoffMs?: number;
  /**
   * How often to ask the coordinator whether the ring changed; 0 turns periodic refresh
   * off (the ring is still refreshed when a node is unreachable or unavailable).
   * @default 5000
   */
  refreshIntervalMs?: number;
  /**
   * Most requests waiting on one node connection.
   * @default 10000
   */
  maxPending?: number;
  /**
   * User to `AUTH` as on every connection, with `password`.
   * @default 'default' (Redis's `AUTH password`)
   */
  user?: string;
  /**
   * Password to `AUTH` with on every connection, when the servers have users configured.
   * @default none: no AUTH is sent
   */
  password?: string;
  /**
   * The cluster secret, for operators' tools: every connection answers the member
   * challenge instead of sending AUTH, and may send `admin` commands (DECOMMISSION).
   * @default none
   */
  clusterSecret?: Buffer;
  /**
   * TLS on every connection, to the coordinator and to the nodes: `ca` is the CA that signs
   * the cluster's certificates (without it, the CAs Node.js trusts), `cert` and `key` a
   * client certificate for clusters that require one, `servername` the name the servers'
   * certificates must carry when they are dialled by another. `{}` is TLS with the default
   * CAs.
   * @default undefined (plain TCP)
   */
  tls?: ClientTlsOptions;
}

/** The `tls` option of {@link ClientOptions}: PEM text or bytes, as `tls.connect` takes them. */
export type ClientTlsOptions = TlsClientOptions;

/** The options without a default: credentials and TLS. */
type UnsetByDefault = 'user' | 'password' | 'clusterSecret' | 'tls';

/** The defaults of {@link ClientOptions} (credentials and TLS have none), one place for code and documentation alike. */
export const DEFAULT_CLIENT_OPTIONS = {
  coordinator: '127.0.0.1:5000',
  seeds: [] as readonly string[],
  connectTimeoutMs: 1000,
  requestTimeoutMs: 5000,
  retries: 2,
  retryBackoffMs: 100,
  refreshIntervalMs: 5000,
  maxPending: 10_000,
} as const satisfies Required<Omit<ClientOptions, UnsetByDefault>>;

/** The options that list addresses. */
type AddressLists = 'coordinator' | 'seeds';

/**
 * {@link ClientOptions} checked, with the defaults filled in and the address lists read:
 * `coordinators` (possibly empty when seeds are given) and `seeds`.
 */
export type ResolvedClientOptions = {
  readonly [
    K in Exclude<keyof ClientOptions, UnsetByDefault | AddressLists>
  ]-?: ClientOptions[K] & {};
} & Pick<ClientOptions, UnsetByDefault> & {
    readonly coordinators: readonly string[];
    readonly seeds: readonly string[];
  };

/** Per-request options. */
export interface RequestOptions {
  /** Overrides `requestTimeoutMs` for this request (each node tried gets this long). */
  timeoutMs?: number;
  /** Abandons the request when aborted. */
  signal?: AbortSignal;
}

/** Options of the requests that write: `KvClient.delete`, `mset`, `expire`, `persist`. */
export interface WriteOptions extends RequestOptions {
  /** Acknowledgements to wait for (1..replication factor); the node's default when unset. */
  writeQuorum?: number;
}

/** Options of `KvClient.delete`. */
export type DeleteOptions = WriteOptions;

/** Options of `KvClient.put` and `KvClient.putIf`. */
export interface PutOptions extends WriteOptions {
  /** Expire the value after this many milliseconds. */
  ttlMs?: number;
  /**
   * Keep the expiry the key has (Redis's `KEEPTTL`; the node reads the key first); not
   * with `ttlMs`.
   */
  keepTtl?: boolean;
}

/** Options of `KvClient.get` and `KvClient.exists`. */
export interface GetOptions extends RequestOptions {
  /** Replicas to read (1..replication factor); the newest copy wins and stale ones are repaired. */
  readQuorum?: number;
}

/**
 * Checks every option and fills in the defaults.
 * @throws {@link InvalidClientOptionError} for an invalid option
 */
export function resolveClientOptions(options: ClientOptions): ResolvedClientOptions {
  const seeds = parseAddressList(options.seeds, 'seeds');
  const coordinators = parseAddressList(
    options.coordinator ?? (seeds.length > 0 ? [] : DEFAULT_CLIENT_OPTIONS.coordinator),
    'coordinator',
  );
  if (coordinators.length === 0 && seeds.length === 0)
    throw new InvalidClientOptionError('give at least one coordinator or seed address');
  checkCount(options.connectTimeoutMs, 'connectTimeoutMs', 1);
  checkCount(options.requestTimeoutMs, 'requestTimeoutMs', 1);
  checkCount(options.retries, 'retries', 0);
  checkCount(options.retryBackoffMs, 'retryBackoffMs', 0);
  checkCount(options.refreshIntervalMs, 'refreshIntervalMs', 0);
  checkCount(options.maxPending, 'maxPending', 1);
  if (options.user !== undefined && options.password === undefined)
    throw new InvalidClientOptionError('user needs a password');
  const { coordinator: _given, seeds: _seeds, ...rest } = options;
  const defined = Object.fromEntries(
    Object.entries(rest).filter(([, value]) => value !== undefined),
  ) as Omit<ClientOptions, AddressLists>;
  const { coordinator: _default, ...defaults } = DEFAULT_CLIENT_OPTIONS;
  return { ...defaults, tls: undefined, ...defined, coordinators, seeds };
}

/**
 * Checks an optional integer option.
 * @throws {@link InvalidClientOptionError} unless `value` is undefined or an integer ≥ `min`
 */
export function checkCount(value: number | undefined, name: string, min: number): void {
  if (value !== undefined && (!Number.isInteger(value) || value < min))
    throw new InvalidClientOptionError(`${name} must be an integer ≥ ${min}, got ${value}`);
}

/**
 * Reads an address list option: one `host:port`, several separated by commas, or an array
 * of such strings. Spaces around addresses are ignored and repeats dropped.
 *
 * @throws {@link InvalidClientOptionError} naming `option` for an address that is not
 *   `host:port`
 */
export function parseAddressList(
  value: string | readonly string[] | undefined,
  option: string,
): string[] {
  if (value === undefined) return [];
  const parts = (typeof value === 'string' ? [value] : value).flatMap((v) => String(v).split(','));
  const addresses: string[] = [];
  for (const part of parts) {
    const address = part.trim();
    if (address === '' && parts.length > 1) continue;
    if (!/^\S+:\d{1,5}$/.test(address) || !parseAddress(address))
      throw new InvalidClientOptionError(`${option} must be host:port, got '${address}'`);
    if (!addresses.includes(address)) addresses.push(address);
  }
  return addresses;
}
