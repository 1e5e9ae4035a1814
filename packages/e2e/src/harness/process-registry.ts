import type { ManagedProcess } from './managed-process';
import { recordPid, startTimeOf, survivors, type PidRecord } from './pid-registry';
import type { Scope } from './test-state';

/** Every process started and not yet seen to exit. */
const running = new Set<ManagedProcess>();

/** Processes started since {@link drainStarted} was last called. */
let started: ManagedProcess[] = [];

/** Descendants of managed processes (what `npx` runs, and what that starts), by scope. */
const descendants: (PidRecord & { scope: Scope })[] = [];

export function noteStarted(managed: ManagedProcess): void {
  running.add(managed);
  started.push(managed);
}

export function noteExited(managed: ManagedProcess): void {
  running.delete(managed);
}

/**
 * Records a descendant in the pid file (once) so that it is stopped with the test or file
 * and checked at the end; undefined if it is already gone.
 */
export function noteDescendant(pid: number, label: string, scope: Scope): PidRecord | undefined {
  const known = descendants.find((d) => d.pid === pid);
  if (known) return known;
  const began = startTimeOf(pid);
  if (began === '') return undefined;
  const record = { pid, started: began, label, scope };
  recordPid(pid, label);
  descendants.push(record);
  return record;
}

/** SIGKILLs those of `records` still running. */
export function killAll(records: readonly PidRecord[]): void {
  for (const record of survivors(records)) {
    try {
      process.kill(record.pid, 'SIGKILL');
    } catch {
      // Gone in the meantime.
    }
  }
}

/** Processes started since the last call (for printing a failed test's output). */
export function drainStarted(): ManagedProcess[] {
  const drained = started;
  started = [];
  return drained;
}

/**
 * SIGKILLs every running process the suite started and every recorded descendant (with
 * `'test'`, only those of the current test), and waits until they are gone.
 */
export async function stopAll(scope: Scope | 'all' = 'all'): Promise<void> {
  const mine = (owner: { scope: Scope }): boolean => scope !== 'test' || owner.scope === 'test';
  killAll(descendants.filter(mine));
  const kept = descendants.filter((d) => !mine(d));
  descendants.splice(0, descendants.length, ...kept);
  await Promise.all([...running].filter(mine).map((managed) => managed.kill()));
}
