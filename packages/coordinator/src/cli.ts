import { DataDirLockedError } from '@kv/protocol';
import { loadAccess } from './access-config';
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
  scriptName = 'kv-coordinator',
): Promise<Coordinator | number> {
  try {
    const commandLine = parseConfig(argv, env, scriptName);
    if (commandLine.action === 'print') {
      output.stdout.write(`${commandLine.text}\n`);
      return ExitCode.OK;
    }
    const { config } = commandLine;
    return await startCoordinator({ ...config, ...loadAccess(config, env) });
  } catch (err) {
    if (!(err instanceof CoordinatorError || err instanceof DataDirLockedError)) throw err;
    output.stderr.write(`${scriptName}: ${err.message}\n`);
    return err instanceof ConfigError ? ExitCode.CONFIG : ExitCode.FAILURE;
  }
}

/**
 * Runs a coordinator as a command until SIGINT or SIGTERM (a second signal stops at once).
 * Sets `process.exitCode` to an {@link ExitCode}.
 *
 * @param argv - the arguments after the command name
 * @param scriptName - how the command is named in messages and `--help`
 */
export async function main(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
  scriptName = 'kv-coordinator',
): Promise<void> {
  const result = await runCli(argv, env, process, scriptName);
  if (typeof result === 'number') {
    process.exitCode = result;
    return;
  }
  const coordinator = result;
  let stopping = false;
  const stop = (): void => {
    if (stopping) process.exit(ExitCode.FAILURE);
    stopping = true;
    coordinator.close().then(
      () => exitSoon(ExitCode.OK),
      (err: unknown) => {
        process.stderr.write(`${scriptName}: ${(err as Error).message}\n`);
        exitSoon(ExitCode.FAILURE);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

/** Lets output drain and the event loop empty; forces the exit if something lingers. */
function exitSoon(code: number): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), 1000).unref();
}
