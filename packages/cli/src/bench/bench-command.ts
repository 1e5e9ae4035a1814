import { createClient } from '@kv/client';
import { clientOptionsOf, type GlobalOptions } from '../cli-parser';
import { ExitCode } from '../exit-codes';
import type { Printer } from '../printer';
import { parseBenchOptions } from './bench-options';
import { benchReport, formatBenchReport } from './bench-report';
import { MIN_LOAD_IN_FLIGHT, runBench } from './bench-runner';
import { BenchProgress, type ProgressStream } from './progress';
import { keyName } from './workload';

/** What `kv bench` needs from the command line and the process. */
export interface BenchCommandContext {
  /** The parsed arguments of `kv bench`. */
  readonly args: Readonly<Record<string, unknown>>;
  readonly globals: GlobalOptions;
  /** Where progress goes: a bar on a terminal, plain lines otherwise. */
  readonly stderr: ProgressStream;
  readonly printer: Printer;
}

/** Requests one node connection may queue beyond those in flight (the client's default). */
const CLIENT_MAX_PENDING = 10_000;

/**
 * `kv bench`: checks the flags, connects to the cluster, runs the benchmark with a progress
 * display on stderr and prints the report (one JSON document with `--json`). Ctrl-C stops
 * the run early and still prints what was measured; a second Ctrl-C ends the process.
 *
 * @returns {@link ExitCode.OK}; {@link ExitCode.UNAVAILABLE} when operations ran but not
 *   one succeeded
 * @throws {@link UsageError} for a bad flag; the client's errors when the cluster cannot be
 *   reached (`CoordinatorUnreachableError`, `NoNodesError`)
 */
export async function runBenchCommand(context: BenchCommandContext): Promise<ExitCode> {
  const { globals, printer } = context;
  const options = parseBenchOptions(context.args);
  const inFlight = Math.max(options.concurrency * options.pipeline, MIN_LOAD_IN_FLIGHT);
  const client = createClient({
    ...clientOptionsOf(globals),
    // Every request in flight may be waiting on the same node.
    maxPending: CLIENT_MAX_PENDING + inFlight,
  });
  const stop = new AbortController();
  // Once: after the first Ctrl-C the default handling is back, so a second one ends kv.
  const onInterrupt = (): void => stop.abort();
  process.once('SIGINT', onInterrupt);
  const progress = new BenchProgress(context.stderr);
  try {
    await client.connect();
    // Fails with NoNodesError when no node has joined, before anything is measured.
    await client.nodesForKey(keyName(0));
    const run = await runBench(client, options, {
      signal: stop.signal,
      onProgress: (snapshot) => progress.update(snapshot),
    });
    progress.finish();
    const report = benchReport(run);
    if (printer.json) printer.document(report);
    else printer.lines(formatBenchReport(report));
    if (report.operations === 0 && report.errors > 0) {
      printer.warn('no operation succeeded: is every node of the cluster up? (see kv status)');
      return ExitCode.UNAVAILABLE;
    }
    return ExitCode.OK;
  } finally {
    progress.finish();
    process.off('SIGINT', onInterrupt);
    await client.close();
  }
}
