import { resolve } from 'node:path';
import {
  clientOptionsOf,
  last,
  NOT_FOR_CLUSTER,
  optionalInteger,
  parseCommandLine,
  ttlMsOf,
  type CliCommand,
  type GlobalOptions,
} from './cli-parser';
import { createClient, type KvClient } from '@kv/client';
import { parseAddress } from '@kv/protocol';
import { runBenchCommand } from './bench/bench-command';
import { MAX_CLUSTER_NODES } from './cluster-options';
import { runClusterCommand } from './cluster-command';
import { defaultSecretFile } from './credentials';
import { UsageError } from './errors';
import { ExitCode } from './exit-codes';
import { HistoryFile, historyFilePath } from './history';
import type { ShellCommand } from './line-parser';
import { Printer } from './printer';
import { runCommand, runLine } from './run-line';
import { startedByNpm, watchParent } from './parent-watch';
import { isServerCommand, runServer } from './servers';
import { ClientSession } from './session';
import { runShell } from './shell';
import { gatherStatus } from './status';
import { formatStatusTable } from './status-table';
import { watchStatus } from './status-watch';

/** The streams `kv` reads and writes. */
export interface CliIo {
  readonly stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream;
}

type Env = Readonly<Record<string, string | undefined>>;

interface CommandContext {
  readonly args: Readonly<Record<string, unknown>>;
  readonly globals: GlobalOptions;
  readonly env: Env;
  readonly io: CliIo;
  readonly printer: Printer;
}

type Handler = (context: CommandContext) => Promise<ExitCode>;

/** How long `kv backup` waits for the node's copy, unless --timeout says otherwise. */
const BACKUP_TIMEOUT_MS = 600_000;

/**
 * Sends one request straight to a node and returns its answer: an operator's command to one
 * node needs no ring, so none is fetched.
 */
async function askNode(
  globals: GlobalOptions,
  timeoutMs: number,
  ask: (client: KvClient) => Promise<string>,
): Promise<string> {
  // The node is asked directly: no ring is fetched.
  const client = createClient({
    ...clientOptionsOf({ ...globals, timeoutMs }),
    refreshIntervalMs: 0,
  });
  try {
    return await ask(client);
  } finally {
    await client.close();
  }
}

const HANDLERS: { readonly [C in CliCommand]: Handler } = {
  shell: (context) => {
    const line = last(context.args['command']);
    if (line !== undefined) {
      return withSession(context, async (session) => {
        const outcome = await runLine(String(line), {
          client: () => session.connect(),
          printer: context.printer,
        });
        return outcome.exitCode;
      });
    }
    const { io, printer, env } = context;
    return withSession(context, (session) =>
      runShell({
        input: io.stdin,
        output: io.stdout,
        printer,
        client: () => session.connect(),
        history: new HistoryFile(historyFilePath(env), (message) => printer.warn(message)),
      }),
    );
  },
  put: (context) => {
    // Several words are one value, as the rest of a shell line is.
    const value = Buffer.from((context.args['value'] as unknown[]).map(String).join(' '));
    return runData(context, { name: 'PUT', key: keyOf(context), value }, ttlMsOf(context.args));
  },
  get: (context) => runData(context, { name: 'GET', key: keyOf(context) }),
  delete: (context) => runData(context, { name: 'DELETE', key: keyOf(context) }),
  nodes: (context) =>
    runData(context, { name: 'LIST_NODES', all: last(context.args['all']) === true }),
  status: (context) => {
    const sampleMs = optionalInteger(context.args, 'sample', 0, 60_000) ?? 1000;
    const watch = last(context.args['watch']) === true;
    const intervalMs = optionalInteger(context.args, 'interval', 100, 3_600_000) ?? 2000;
    const { printer } = context;
    return withSession(context, async (session) => {
      const render = async (): Promise<string[]> => {
        const status = await gatherStatus(await session.connect(), {
          coordinator: session.coordinator,
          sampleMs,
        });
        return printer.json ? [JSON.stringify(status)] : formatStatusTable(status);
      };
      if (!watch) {
        printer.lines(await render());
        return ExitCode.OK;
      }
      // Like top: redraw until Ctrl-C, which ends the watch normally.
      const stop = new AbortController();
      const onSignal = (): void => stop.abort();
      for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, onSignal);
      try {
        await watchStatus({
          render,
          write: (text) => context.io.stdout.write(text),
          intervalMs,
          clear: !printer.json,
          signal: stop.signal,
        });
      } finally {
        for (const signal of ['SIGINT', 'SIGTERM'] as const) process.off(signal, onSignal);
      }
      return ExitCode.OK;
    });
  },
  decommission: async ({ args, globals, printer }) => {
    const address = String(args['address']);
    if (!parseAddress(address))
      throw new UsageError(`decommission needs a node address host:port, got '${address}'`);
    const reply = await askNode(globals, globals.timeoutMs ?? 5000, (client) =>
      client.decommission(address),
    );
    if (printer.json) printer.document({ node: address, decommissioning: true, reply });
    else printer.lines([`[Client] DECOMMISSION ${address}: ${reply}`]);
    return ExitCode.OK;
  },
  backup: async ({ args, globals, printer }) => {
    const node = String(last(args['node']));
    if (!parseAddress(node)) throw new UsageError(`backup needs --node host:port, got '${node}'`);
    // The node writes the copy; a relative path is taken from here, as a user means it.
    const dir = resolve(String(args['dir']));
    const reply = await askNode(globals, globals.timeoutMs ?? BACKUP_TIMEOUT_MS, (client) =>
      client.backup(node, dir),
    );
    if (printer.json) printer.document({ node, dir, reply });
    else printer.lines([`[Client] BACKUP ${node} ${dir}: ${reply}`]);
    return ExitCode.OK;
  },
  cluster: (context) => {
    const { args, io, printer, env } = context;
    const foreign = NOT_FOR_CLUSTER.find((flag) => args[flag] !== undefined);
    if (foreign !== undefined) {
      throw new UsageError(
        `kv cluster does not take --${foreign}: it runs its own coordinator on --base-port, ` +
          'gives its processes their secret and certificates, and prints its own lines',
      );
    }
    const dataDir = last(args['data-dir']);
    const secretFile = last(args['cluster-secret-file']);
    return runClusterCommand(
      {
        // A secret in KV_CLUSTER_SECRET reaches the processes through their environment.
        clusterSecretFile:
          secretFile !== undefined
            ? String(secretFile)
            : env['KV_CLUSTER_SECRET']
              ? undefined
              : defaultSecretFile(env),
        nodes: optionalInteger(args, 'nodes', 1, MAX_CLUSTER_NODES),
        basePort: optionalInteger(args, 'base-port', 1, 65535),
        dataDir: dataDir === undefined ? undefined : String(dataDir),
        tls: last(args['tls']) === true,
        restartDead: last(args['restart-dead']) === true,
        ...(context.globals.timeoutMs !== undefined && {
          readyTimeoutMs: context.globals.timeoutMs,
        }),
        stdout: io.stdout,
        stderr: io.stderr,
        env: { ...env },
      },
      printer,
    );
  },
  bench: ({ args, globals, io, printer }) =>
    runBenchCommand({ args, globals, stderr: io.stderr, printer }),
};

/**
 * Runs `kv` with `argv` (the arguments after `node kv`) for the commands that return: the
 * shell, `--command`, `put`, `get`, `delete`, `nodes`, `status` and `cluster`. Expected
 * failures are printed as one line, `kv: <message>`, on stderr; nothing is thrown.
 *
 * @returns the {@link ExitCode} to exit with
 */
export async function runCli(
  argv: readonly string[],
  env: Env = process.env,
  io: CliIo = process,
): Promise<ExitCode> {
  const printer = new Printer(io.stdout, io.stderr, argv.includes('--json'));
  try {
    const invocation = parseCommandLine(argv, env);
    if (invocation.kind === 'print') {
      io.stdout.write(`${invocation.text}\n`);
      return ExitCode.OK;
    }
    const context: CommandContext = {
      args: invocation.args,
      globals: invocation.globals,
      env,
      io,
      printer: new Printer(io.stdout, io.stderr, invocation.globals.json),
    };
    return await HANDLERS[invocation.command](context);
  } catch (err) {
    return printer.error(err);
  }
}

/**
 * The `kv` command: `kv coordinator ...` and `kv node ...` run that server until it is
 * stopped; everything else goes through {@link runCli}. Sets `process.exitCode`. Started
 * by npm (`npx kv ...`), it stops as on SIGTERM when its parent goes away.
 *
 * @param argv - the arguments after `node kv`
 */
export async function main(argv: readonly string[], env: Env = process.env): Promise<void> {
  const [first, ...rest] = argv;
  // Run through npm, a server or cluster would outlive npm stopped with SIGTERM: when the
  // parent goes, stop as on SIGTERM (the servers and kv cluster stop gracefully on it).
  if (startedByNpm(env)) watchParent(() => process.kill(process.pid, 'SIGTERM'));
  if (isServerCommand(first)) {
    await runServer(first, rest, env);
    return;
  }
  const code = await runCli(argv, env);
  process.exitCode = code;
  // Output is flushed and every socket closed by now; if a handle still lingers, it must
  // not keep a finished command alive.
  setTimeout(() => process.exit(code), 2000).unref();
}

function keyOf(context: CommandContext): string {
  return String(context.args['key']);
}

function runData(
  context: CommandContext,
  command: ShellCommand,
  ttlMs?: number,
): Promise<ExitCode> {
  return withSession(context, async (session) => {
    const outcome = await runCommand(command, {
      client: () => session.connect(),
      printer: context.printer,
      ttlMs,
    });
    return outcome.exitCode;
  });
}

async function withSession(
  context: CommandContext,
  use: (session: ClientSession) => Promise<ExitCode>,
): Promise<ExitCode> {
  const session = new ClientSession(context.globals);
  try {
    return await use(session);
  } finally {
    await session.close();
  }
}
