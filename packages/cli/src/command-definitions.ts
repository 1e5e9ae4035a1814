import yargs, { type Argv } from 'yargs';
import { benchCommandBuilder } from './bench/bench-flags';
import { MAX_RESTARTS_PER_MINUTE } from './cluster-options';
import { DEFAULT_COORDINATOR } from './global-options';
import { version } from './version';

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

/** The yargs definition of `kv`'s flags and subcommands, with their help texts. */
export function commandLineParser(): Argv {
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
