import { binPath } from './bins';
import { ManagedProcess, describeExit, type ExitStatus, type ProcessSpec } from './managed-process';

/** How a command that ran to completion ended, and what it wrote. */
export interface CommandResult {
  readonly status: ExitStatus;
  readonly stdout: string;
  readonly stderr: string;
  /** Everything, for failure messages. */
  readonly transcript: string;
}

/** Runs a command to completion (SIGKILLed, and the test failed, after `timeoutMs`). */
export async function runCommand(spec: ProcessSpec, timeoutMs: number): Promise<CommandResult> {
  const managed = ManagedProcess.start(spec);
  const status = await managed.waitForExit(timeoutMs).catch(async (err: unknown) => {
    await managed.kill();
    throw err;
  });
  return {
    status,
    stdout: managed.output('stdout'),
    stderr: managed.output('stderr'),
    transcript: `${managed.tail(200)}\n(${describeExit(status)})`,
  };
}

/** Runs the built `kv` command with these arguments. */
export function runKv(args: readonly string[], timeoutMs = 30_000): Promise<CommandResult> {
  return runCommand(
    {
      name: `kv ${args.join(' ')}`,
      command: process.execPath,
      args: [binPath('@kv/cli'), ...args],
    },
    timeoutMs,
  );
}

/**
 * `kv --coordinator <address> --command "<line>"`: one command, as a user types it; `flags`
 * go before it (`--tls-ca ...`).
 */
export function runKvCommand(
  coordinator: string,
  line: string,
  flags: readonly string[] = [],
): Promise<CommandResult> {
  return runKv(['--coordinator', coordinator, ...flags, '--command', line]);
}
