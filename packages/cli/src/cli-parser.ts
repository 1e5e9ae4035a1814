import {
  loadClientTls,
  parseAddress as splitAddress,
  TlsConfigError,
  type Credentials,
  type TlsClientOptions,
} from '@kv/protocol';
import type { ClientOptions } from '@kv/client';
import yargs, { type Argv } from 'yargs';
import { benchCommandBuilder } from './bench/bench-flags';
import { findCredentials } from './credentials';
import { UsageError } from './errors';
import { MAX_RESTARTS_PER_MINUTE } from './cluster';
import { isServerCommand } from './servers';
import { version } from './version';

/**
 * The coordinator `kv` talks to when none is given (`--coordinator`, `KV_COORDINATOR`)
 * and no seed either (`--seeds`, `KV_SEEDS`).
 */
export const DEFAULT_COORDINATOR = '127.0.0.1:5000';

/** The subcommands yargs dispatches (`coordinator` and `node` are passed through before it). */
export const CLI_COMMANDS = [
  'shell',
  'put',
  'get',
  'delete',
  'nodes',
  'status',
  'decommission',
  'backup',
  'cluster',
  'bench',
] as const;

/** One of {@link CLI_COMMANDS}; `shell` is `kv` without a subcommand. */
export type CliCommand = (typeof CLI_COMMANDS)[number];

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

/**
 * Global flags `kv cluster` does not take (hidden from its help): it runs its own
 * coordinator, authenticates with the secret it gives its processes, and makes its own
 * certificates.
 */
export const NOT_FOR_CLUSTER = [
  'coordinator',
  'seeds',
  'json',
  'user',
  'password',
  'tls-ca',
  'tls-cert',
  'tls-key',
] as const;

/** The TLS flags of `kv`, each also read from its variable: `--tls-ca` ↔ `KV_TLS_CA`. */
const TLS_FLAGS = { ca: 'tls-ca', cert: 'tls-cert', key: 'tls-key' } as const;

/** What the command line asks for. */
export type Invocation =
  | { readonly kind: 'print'; readonly text: string }
  | {
      readonly kind: 'run';
      readonly command: CliCommand;
      readonly globals: GlobalOptions;
      /** The parsed arguments, for the command to validate what it uses. */
      readonly args: Readonly<Record<string, unknown>>;
    };

/** Usage of the subcommands with required arguments, for a clearer message than yargs'. */
const USAGE: Readonly<Record<string, string>> = {
  put: 'kv put <key> <value> [--ttl seconds]',
  get: 'kv get <key>',
  delete: 'kv delete <key>',
  del: 'kv delete <key>',
};

// Arguments after `--` are never options. yargs does not bind them to positionals (so
// `kv put k -- -5` would lack its value), so they are marked with a NUL, which no process
// argument can contain, to keep yargs from reading them as flags, and unmarked after.
const MARK = '\u0000';

/**
 * Parses `kv`'s arguments (after `node kv`).
 *
 * @throws {@link UsageError} with a one-line message for an unknown command or flag, a
 *   missing argument or an invalid value
 */
export function parseCommandLine(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Invocation {
  let error: Error | undefined;
  let output = '';
  let parsed: Record<string, unknown> = {};
  commandLineParser().parseSync(markAfterDashDash(argv), {}, (err, args, out) => {
    error = err ?? undefined;
    parsed = args as Record<string, unknown>;
    output = out;
  });
  const words = (parsed['_'] as unknown[] | undefined) ?? [];
  const first = words.length > 0 ? unmark(String(words[0])) : undefined;
  if (first !== undefined && isServerCommand(first)) {
    throw new UsageError(`'${first}' must be the first argument: kv ${first} [options]`);
  }
  if (first !== undefined && !isCliCommand(first) && first !== 'del') {
    throw new UsageError(`unknown command '${first}' (see kv --help)`);
  }
  if (error) {
    const usage = first === undefined ? undefined : USAGE[first];
    if (usage && /^Not enough non-option arguments/.test(error.message)) {
      throw new UsageError(`missing arguments: usage ${usage}`);
    }
    throw new UsageError(`${oneLine(unmark(error.message))} (see kv --help)`);
  }
  if (parsed['help'] === true || parsed['version'] === true) return { kind: 'print', text: output };
  const args = unmarkAll(parsed);
  const command: CliCommand = first === undefined ? 'shell' : first === 'del' ? 'delete' : first;
  // `kv cluster` creates its secret rather than reading one; its own flag names the file.
  const globals = globalOptions(args, env, command !== 'cluster');
  return { kind: 'run', command, globals, args };
}

function globalOptions(
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

function isCliCommand(word: string): word is CliCommand {
  return (CLI_COMMANDS as readonly string[]).includes(word) && word !== 'shell';
}

function commandLineParser(): Argv {
  return yargs()
    .scriptName('kv')
    .usage(
      'Usage: kv [options] [command]\n\n' +
        'The kv command line. Without a command it starts the interactive shell (PUT, GET, ' +
        'DELETE, LIST_NODES, HELP, EXIT); with --command it runs one shell line.',
    )
    .parserConfiguration({
      'parse-numbers': false,
      'parse-positional-numbers': false,
      'boolean-negation': false,
    })
    .strict()
    .exitProcess(false)
    .wrap(100)
    .option('coordinator', {
      type: 'string',
      global: true,
      requiresArg: true,
      describe:
        'coordinator address, host:port, or several separated by commas, asked in order (env KV_COORDINATOR)',
      defaultDescription: `${DEFAULT_COORDINATOR}, or none with --seeds`,
    })
    .option('seeds', {
      type: 'string',
      global: true,
      requiresArg: true,
      describe:
        'members (nodes or coordinators), host:port separated by commas, to learn the ring from when no coordinator answers (env KV_SEEDS)',
      defaultDescription: 'none',
    })
    .option('json', {
      type: 'boolean',
      global: true,
      describe: 'print one JSON document per command on stdout',
    })
    .option('timeout', {
      type: 'string',
      global: true,
      requiresArg: true,
      describe: 'connect and request timeout in ms',
      defaultDescription: "the client's",
    })
    .option('user', {
      type: 'string',
      global: true,
      requiresArg: true,
      describe: 'user to AUTH as, with --password (env KV_USER)',
      defaultDescription: 'default',
    })
    .option('password', {
      type: 'string',
      global: true,
      requiresArg: true,
      describe: 'password to AUTH with (env KV_PASSWORD; prefer the variable: flags show in ps)',
    })
    .option('cluster-secret-file', {
      type: 'string',
      global: true,
      requiresArg: true,
      describe:
        'cluster secret to authenticate as a member with, for status and decommission (env KV_CLUSTER_SECRET holds the secret itself; kv cluster creates the file if missing)',
      defaultDescription: '$KV_CLUSTER_SECRET_FILE or ~/.kv/cluster.secret, if it exists',
    })
    .option('tls', {
      type: 'boolean',
      global: true,
      describe: 'connect with TLS (implied by --tls-ca, --tls-cert, --tls-key) (env KV_TLS=1)',
    })
    .option('tls-ca', {
      type: 'string',
      global: true,
      requiresArg: true,
      describe: "PEM file of the CA that signs the cluster's certificates (env KV_TLS_CA)",
      defaultDescription: "Node.js's trusted CAs",
    })
    .option('tls-cert', {
      type: 'string',
      global: true,
      requiresArg: true,
      describe: 'PEM file of a client certificate, for clusters that require one (env KV_TLS_CERT)',
    })
    .option('tls-key', {
      type: 'string',
      global: true,
      requiresArg: true,
      describe: 'PEM file of the private key of --tls-cert (env KV_TLS_KEY)',
    })
    .command('$0', 'interactive shell, or one shell line with --command', (y) =>
      y
        .option('command', {
          alias: 'c',
          type: 'string',
          requiresArg: true,
          describe: 'run one shell line and exit, e.g. --command "PUT user:1 Alice"',
        })
        .example('kv', 'start the interactive shell')
        .example('kv --command "PUT user:1 Alice Smith"', 'store a value (the rest of the line)')
        .example('kv --coordinator 10.0.0.5:5000 --json get user:1', 'machine-readable GET'),
    )
    .command('put <key> <value..>', 'store a value (several words are joined by spaces)', (y) =>
      y.option('ttl', {
        type: 'string',
        requiresArg: true,
        describe: 'expire the key after this many seconds',
      }),
    )
    .command('get <key>', 'print a value (exit 1 if the key does not exist)')
    .command(['delete <key>', 'del'], 'delete a key (exit 1 if it did not exist)')
    .command('nodes', "list the coordinator's nodes (LIST_NODES)", (y) =>
      y.option('all', { type: 'boolean', describe: 'also recently dead nodes' }),
    )
    .command('status', 'table of every node: state, zone, keys, ops/s, ring share, epoch', (y) =>
      y
        .option('sample', {
          type: 'string',
          requiresArg: true,
          default: '1000',
          describe:
            "ops/s: each node's total_commands_processed is read twice, this many ms apart " +
            '(0: skip ops/s)',
        })
        .option('watch', {
          type: 'boolean',
          describe:
            'refresh the table like top until Ctrl-C (with --json: one document per refresh)',
        })
        .option('interval', {
          type: 'string',
          requiresArg: true,
          default: '2000',
          describe: 'with --watch: ms between refreshes',
        }),
    )
    .command(
      'decommission <address>',
      'retire a node (host:port): it hands its data to the next owners, leaves the ring and stops',
    )
    .command(
      'backup <dir>',
      "snapshot one node's records into dir (a path on the node's machine) while it serves; start a node with --data-dir dir to restore",
      (y) =>
        y.option('node', {
          type: 'string',
          requiresArg: true,
          demandOption: true,
          describe: 'the node to back up, host:port',
        }),
    )
    .command('cluster', 'run a local coordinator and nodes as child processes', (y) =>
      NOT_FOR_CLUSTER.reduce(
        (hidden, flag) => hidden.hide(flag),
        y
          .option('nodes', {
            type: 'string',
            requiresArg: true,
            default: '3',
            describe: 'storage nodes to start (write quorum is min(2, nodes))',
          })
          .option('base-port', {
            type: 'string',
            requiresArg: true,
            default: '5000',
            describe: 'coordinator port; nodes get the next ports',
          })
          .option('data-dir', {
            type: 'string',
            requiresArg: true,
            describe:
              "directory for durable state: the coordinator's membership and each node's records (DIR/node-<port>); without it, data lives in memory only",
          })
          .option('restart-dead', {
            type: 'boolean',
            describe: `restart a process that dies (same port and data), up to ${MAX_RESTARTS_PER_MINUTE} times a minute; without it, kill -USR2 <kv pid> restarts dead ones`,
          })
          .option('timeout', {
            type: 'string',
            requiresArg: true,
            describe: 'ms to wait for every node to serve before giving up',
            defaultDescription: '30000',
          })
          .example(
            'kv cluster --tls',
            'every process with TLS: a development CA and certificates made with openssl ' +
              '(in <data-dir>/tls, or a temporary folder); connect with --tls-ca <folder>/ca.pem',
          ),
      ),
    )
    .command(
      'bench',
      'load-test the cluster: throughput and latency percentiles',
      benchCommandBuilder,
    )
    .command('coordinator', 'run a coordinator (kv coordinator --help for its options)')
    .command('node', 'run a storage node (kv node --help for its options)')
    .epilog(
      'Exit codes: 0 ok; 1 not found (get/delete of a missing key); 2 usage error; ' +
        '3 cluster unreachable or unavailable; 4 other failure. ' +
        'Environment: KV_COORDINATOR (default coordinators), KV_SEEDS (default seeds), KV_HISTORY_FILE (shell history, ' +
        'default ~/.kv_history), KV_USER and KV_PASSWORD (AUTH), KV_CLUSTER_SECRET or ' +
        'KV_CLUSTER_SECRET_FILE (member authentication). Arguments after -- are never read as options.',
    )
    .version(version())
    .help()
    .alias('h', 'help');
}

function markAfterDashDash(argv: readonly string[]): string[] {
  const at = argv.indexOf('--');
  if (at === -1) return [...argv];
  return [...argv.slice(0, at), ...argv.slice(at + 1).map((a) => MARK + a)];
}

function unmark(text: string): string {
  return text.split(MARK).join('');
}

function unmarkAll(args: Record<string, unknown>): Record<string, unknown> {
  const clean = (v: unknown): unknown =>
    typeof v === 'string' ? unmark(v) : Array.isArray(v) ? v.map(clean) : v;
  return Object.fromEntries(Object.entries(args).map(([k, v]) => [k, clean(v)]));
}

function show(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, '; ');
}
