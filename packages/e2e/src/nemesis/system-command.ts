import { spawnSync } from 'node:child_process';

/** Options of {@link runSync}. */
export interface RunSyncOptions {
  /** Written to its stdin. */
  readonly input?: string;
  /** Return the result instead of throwing when it fails. @default false */
  readonly allowFailure?: boolean;
}

/** How a command ended. */
export interface RunSyncResult {
  readonly ok: boolean;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a short system command (`ip`, `iptables-restore`) to completion, synchronously, so
 * that the same code serves tests and a signal handler on the way out.
 *
 * @throws an Error quoting the command and its stderr when it fails, unless `allowFailure`
 */
export function runSync(
  command: string,
  args: readonly string[],
  { input, allowFailure = false }: RunSyncOptions = {},
): RunSyncResult {
  const result = spawnSync(command, args, { input, encoding: 'utf8', timeout: 10_000 });
  const ok = result.status === 0;
  const stderr = result.error ? result.error.message : (result.stderr ?? '');
  if (!ok && !allowFailure) {
    throw new Error(
      `${command} ${args.join(' ')} failed (${result.status ?? result.signal ?? 'not run'}): ${stderr.trim()}`,
    );
  }
  return { ok, stdout: result.stdout ?? '', stderr };
}
