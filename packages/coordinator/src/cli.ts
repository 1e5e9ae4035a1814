import { parseConfig } from './config';
import { startCoordinator, type Coordinator } from './coordinator';
import { ConfigError, CoordinatorError } from './errors';

/** Exit codes of `kv-coordinator`. */
export const ExitCode = {
  /** Stopped cleanly, or printed --help / --version. */
  OK: 0,
  /** Could not start (address in use, unreadable state file, ...) or stop cleanly. */
  FAILURE: 1,
  /** Invalid configuration. */
  CONFIG: 2,
} as const;

/** Where {@link runCli} writes. */
export interface CliOutput {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

/**
 * Everything `kv-coordinator` does before it waits for a signal: parses flags and
 * environment, prints help or version, or starts a coordinator. Expected failures are
 * printed as one line, `kv-coordinator: <what happened>`, without a stack trace.
 *
 * @param argv - the arguments after `node kv-coordinator`
 * @param env - environment variables
 * @returns the running coordinator, or the exit code to exit with
 */
export async function runCli(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  output: CliOutput = process,
): Promise<Coordinator | number> {
  try {
    const commandLine = parseConfig(argv, env);
    if (commandLine.action === 'print') {
      output.stdout.write(`${commandLine.text}\n`);
      return ExitCode.OK;
    }
    return await startCoordinator(commandLine.config);
  } catch (err) {
    if (!(err instanceof CoordinatorError)) throw err;
    output.stderr.write(`kv-coordinator: ${err.message}\n`);
    return err instanceof ConfigError ? ExitCode.CONFIG : ExitCode.FAILURE;
  }
}
