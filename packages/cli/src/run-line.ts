import { executeCommand, exitCodeOfResult, type DataClient } from './command-runners';
import { ExitCode } from './exit-codes';
import { parseShellLine, type ShellCommand } from './line-parser';
import type { Printer } from './printer';

/** What {@link runLine} needs. */
export interface LineContext {
  /** Gives the connected client; called only by commands that need the cluster. */
  readonly client: () => Promise<DataClient>;
  readonly printer: Printer;
  /** Expiry given to PUT, in milliseconds. */
  readonly ttlMs?: number | undefined;
}

/** The outcome of one line. */
export interface LineOutcome {
  /** The exit code the line maps to (`kv --command` exits with it). */
  readonly exitCode: ExitCode;
  /** Whether the line was `EXIT`. */
  readonly exit: boolean;
}

/**
 * Parses, runs and prints one line of the shell grammar: what the shell does for each
 * line and `kv --command` does once. Every failure is printed, never thrown.
 */
export async function runLine(line: string, context: LineContext): Promise<LineOutcome> {
  let command;
  try {
    command = parseShellLine(line);
  } catch (err) {
    return { exitCode: context.printer.error(err), exit: false };
  }
  if (command === null) return { exitCode: ExitCode.OK, exit: false };
  return runCommand(command, context);
}

/**
 * Runs and prints one command: what a shell line and the subcommands `put`, `get`,
 * `delete` and `nodes` do. Every failure is printed, never thrown.
 */
export async function runCommand(
  command: ShellCommand,
  context: LineContext,
): Promise<LineOutcome> {
  const { printer } = context;
  try {
    const result = await executeCommand(context.client, command, {
      ttlMs: context.ttlMs,
      onFallback: (event) => printer.fallback(event),
    });
    printer.result(result);
    return { exitCode: exitCodeOfResult(result), exit: result.kind === 'exit' };
  } catch (err) {
    return { exitCode: printer.error(err), exit: false };
  }
}
