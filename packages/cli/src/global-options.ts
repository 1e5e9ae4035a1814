import {
  loadClientTls,
  TlsConfigError,
  type Credentials,
  type TlsClientOptions,
} from '@kv/protocol';
import type { ClientOptions } from '@kv/client';
import { parseAddressList } from './address-list';
import { findCredentials } from './credentials';
import { UsageError } from './errors';
import { last, optionalInteger } from './option-values';

/**
 * The coordinator `kv` talks to when none is given (`--coordinator`, `KV_COORDINATOR`)
 * and no seed either (`--seeds`, `KV_SEEDS`).
 */
export const DEFAULT_COORDINATOR = '127.0.0.1:5000';

/** Options every data command takes. */
export interface GlobalOptions {
  /** The coordinators, `host:port`, in the order to ask them; empty when only seeds are given. */
  readonly coordinators: readonly string[];
  /** Members (nodes or coordinators) to learn the ring from when no coordinator answers. */
  readonly seeds: readonly string[];
  /** Print one JSON document instead of the human lines. */
  readonly json: boolean;
  /** Connect and request timeout in milliseconds; the client's defaults when undefined. */
  readonly timeoutMs: number | undefined;
  /** What every connection authenticates with (see `findCredentials`). */
  readonly credentials: Credentials;
  /** TLS to the coordinator and the nodes (`--tls`, `--tls-ca`, ...), read from its files; undefined for plain TCP. */
  readonly tls: TlsClientOptions | undefined;
}

/**
 * The client options the global flags ask for: the coordinators and seeds, `--timeout` as
 * the connect and request timeouts, TLS.
 */
export function clientOptionsOf(
  globals: Pick<GlobalOptions, 'coordinators' | 'seeds' | 'timeoutMs' | 'tls'> & {
    readonly credentials?: Credentials | undefined;
  },
): ClientOptions {
  return {
    coordinator: globals.coordinators,
    seeds: globals.seeds,
    ...(globals.timeoutMs !== undefined && {
      connectTimeoutMs: globals.timeoutMs,
      requestTimeoutMs: globals.timeoutMs,
    }),
    ...(globals.tls && { tls: globals.tls }),
    ...globals.credentials,
  };
}

/** The TLS flags of `kv`, each also read from its variable: `--tls-ca` ↔ `KV_TLS_CA`. */
const TLS_FLAGS = { ca: 'tls-ca', cert: 'tls-cert', key: 'tls-key' } as const;

/** The global options of a parsed command line; `authenticates` is false for `kv cluster`. */
export function globalOptions(
  args: Readonly<Record<string, unknown>>,
  env: Readonly<Record<string, string | undefined>>,
  authenticates: boolean,
): GlobalOptions {
  const seeds = addressesOf(args, env, 'seeds') ?? [];
  const coordinators =
    addressesOf(args, env, 'coordinator') ?? (seeds.length > 0 ? [] : [DEFAULT_COORDINATOR]);
  return {
    coordinators,
    seeds,
    json: last(args['json']) === true,
    timeoutMs: optionalInteger(args, 'timeout', 1),
    credentials: authenticates
      ? findCredentials(
          {
            user: last(args['user']),
            password: last(args['password']),
            secretFile: last(args['cluster-secret-file']),
          },
          env,
        )
      : {},
    tls: tlsOptions(args, env),
  };
}

/**
 * The client's TLS: on with `--tls` (or `KV_TLS=1`) or any file flag; the files given by
 * flag, else by variable.
 * @throws {@link UsageError} when a file cannot be read, or a certificate lacks its key
 */
function tlsOptions(
  args: Readonly<Record<string, unknown>>,
  env: Readonly<Record<string, string | undefined>>,
): TlsClientOptions | undefined {
  const files: Partial<Record<keyof typeof TLS_FLAGS, string>> = {};
  for (const [name, flag] of Object.entries(TLS_FLAGS) as [keyof typeof TLS_FLAGS, string][]) {
    const fromFlag = last(args[flag]);
    const fromEnv = env[`KV_${flag.toUpperCase().replace(/-/g, '_')}`];
    if (fromFlag !== undefined) files[name] = String(fromFlag);
    else if (fromEnv !== undefined && fromEnv !== '') files[name] = fromEnv;
  }
  const on = last(args['tls']) === true || /^(1|true|yes)$/i.test(env['KV_TLS'] ?? '');
  if (!on && Object.keys(files).length === 0) return undefined;
  try {
    return loadClientTls(files);
  } catch (err) {
    if (err instanceof TlsConfigError) throw new UsageError(err.message);
    throw err;
  }
}

/**
 * The addresses of `--<flag>`, else of `KV_<FLAG>` (an empty variable counts as unset):
 * `host:port` separated by commas; undefined when neither is given.
 * @throws {@link UsageError} naming the flag or variable for an address that is not
 *   `host:port`, or a list without any
 */
function addressesOf(
  args: Readonly<Record<string, unknown>>,
  env: Readonly<Record<string, string | undefined>>,
  flag: string,
): string[] | undefined {
  const variable = `KV_${flag.toUpperCase()}`;
  const fromFlag = last(args[flag]);
  const fromEnv = env[variable];
  const [text, source] =
    fromFlag !== undefined
      ? [String(fromFlag), `--${flag}`]
      : fromEnv !== undefined && fromEnv !== ''
        ? [fromEnv, variable]
        : [undefined, ''];
  if (text === undefined) return undefined;
  return parseAddressList(text, source);
}
