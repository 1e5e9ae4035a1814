import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DataDirLockedError } from './errors';

/** Directories this process holds: a second server in the same process is refused too. */
const held = new Set<string>();

/** The lock file a server keeps in its data directory while it runs. */
export const LOCK_FILE = 'kv.lock';

/** A held data directory; {@link DataDirLock.release} gives it up. */
export interface DataDirLock {
  /** The directory, resolved. */
  readonly dir: string;
  /** Removes the lock file. Idempotent. */
  release(): void;
}

/**
 * Takes the data directory `dir` (created if missing) for this process: creates
 * `dir/kv.lock` exclusively with this process's id. A lock file left by a process that no
 * longer runs (one killed or crashed) is taken over; one whose process runs is refused.
 * @throws {@link DataDirLockedError} while another process, or another server of this
 *   process, holds the directory
 */
export function lockDataDir(dir: string): DataDirLock {
  const resolved = resolve(dir);
  if (held.has(resolved)) throw new DataDirLockedError(resolved, process.pid, LOCK_FILE);
  mkdirSync(resolved, { recursive: true });
  const file = join(resolved, LOCK_FILE);
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      try {
        writeSync(fd, `${process.pid}\n`);
      } finally {
        closeSync(fd);
      }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
      const owner = ownerOf(file);
      // This process's own id in a file it does not hold: left by an earlier process that
      // had the same id (containers restart with the same pids).
      if (owner !== undefined && owner !== process.pid && isRunning(owner))
        throw new DataDirLockedError(resolved, owner, LOCK_FILE);
      unlinkSync(file);
    }
  }
  held.add(resolved);
  let released = false;
  return {
    dir: resolved,
    release: () => {
      if (released) return;
      released = true;
      held.delete(resolved);
      if (ownerOf(file) === process.pid) unlinkSync(file);
    },
  };
}

/** The process id in a lock file; undefined if it is unreadable or malformed. */
function ownerOf(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it runs, as another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
