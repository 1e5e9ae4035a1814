import { parseNodeConfig } from './config';
import { survivePendingCommitFailures } from './lmdb-commit-failures';
import { startNode } from './node';
import { resolveNodeOptions } from './resolve-node-options';

/**
 * Past the hand-off and the shutdown grace, what a stop may take on top (unregistering, a
 * last sync reply, closing the engine) before the process exits anyway, with code 1.
 */
export const STOP_MARGIN_MS = 10_000;

/**
 * Runs a storage node as a command: reads flags and `KV_*` variables, starts the node and
 * stops it gracefully on SIGINT or SIGTERM (leaving the ring, unless it has a data
 * directory to come back with). Expected failures are one line on stderr, never a stack
 * trace. Sets `process.exitCode`: 0 stopped cleanly or printed help, 1 could not start or
 * stop, or stopped on a failure of its write-ahead log, 2 usage error.
 *
 * @param argv - the arguments after the command name
 * @param scriptName - how the command is named in messages and `--help`
 */
export async function main(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
  scriptName = 'kv-node',
): Promise<void> {
  const config = await parseNodeConfig(argv, env, scriptName);
  if (config.kind === 'exit') {
    (config.code === 0 ? process.stdout : process.stderr).write(`${config.output}\n`);
    process.exitCode = config.code;
    return;
  }
  // lmdb-js leaves some of its own promises unhandled when a commit fails (a full disk),
  // starting included: the engine deals with the failure, so they must not end the process.
  const survival = survivePendingCommitFailures();
  let node;
  try {
    node = await startNode(config.options);
  } catch (err) {
    survival();
    const code = (err as NodeJS.ErrnoException).code;
    const what =
      code === 'EADDRINUSE'
        ? // The RESP port or the metrics port: the error names the one it is about.
          `port ${(err as { port?: number }).port ?? config.options.port} is already in use`
        : err instanceof Error
          ? err.message
          : String(err);
    process.stderr.write(`${scriptName}: cannot start: ${what}\n`);
    process.exitCode = 1;
    return;
  }
  let stopping = false;
  /** Exits once the node has stopped: 1 if a failure stopped it (its log could not sync). */
  const exitStopped = (): never => {
    if (node.failure) process.stderr.write(`${scriptName}: stopped: ${node.failure.message}\n`);
    process.exit(node.failure ? 1 : 0);
  };
  const stop = (): void => {
    // A second signal means "now": do not wait for in-flight requests.
    if (stopping) process.exit(1);
    stopping = true;
    // The node started with these options, so they resolve.
    const { leaveTimeoutMs, shutdownGraceMs } = resolveNodeOptions(config.options);
    const limitMs = leaveTimeoutMs + shutdownGraceMs + STOP_MARGIN_MS;
    setTimeout(() => {
      process.stderr.write(`${scriptName}: did not stop within ${limitMs} ms: exiting now\n`);
      process.exit(1);
    }, limitMs).unref();
    // A node with a data directory stops in place: its records wait on disk and it takes
    // its ranges back when it returns. A memory node's records go with the process, so it
    // hands them to the next owners first. A failure that stopped the node first still
    // exits 1.
    node
      .close({ leave: config.options.dataDir === undefined })
      .then(exitStopped, (err: unknown) => {
        process.stderr.write(
          `${scriptName}: error while stopping: ${err instanceof Error ? err.message : String(err)}\n`,
        );
        process.exit(1);
      });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // A DECOMMISSION command stops the node from within: the process goes with it; so does
  // a failure that stops it (its log could not sync), with code 1.
  void node.closed.then(() => {
    if (!stopping) exitStopped();
  });
  // Nothing left to run, and the node never said it stopped (its stop hung, on a failing
  // disk say): the process must not end with code 0 as if it had.
  process.once('beforeExit', () => {
    process.stderr.write(
      `${scriptName}: the node did not finish stopping${node.failure ? ` (${node.failure.message})` : ''}\n`,
    );
    process.exit(1);
  });
}
