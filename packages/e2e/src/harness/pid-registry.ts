import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Every process the suite starts is appended to one file under the OS temp directory, so
 * that the global teardown can prove none survived, even when a test failed half-way.
 * The file is named by the global setup (in this environment variable); a test file run on
 * its own falls back to one per jest process.
 */
export const PID_FILE_ENV = 'E2E_PID_FILE';

/** A process the suite started, as recorded. */
export interface PidRecord {
  readonly pid: number;
  /** `ps` start time, to tell the process from a later one that reused its pid. */
  readonly started: string;
  /** What it was, for the report. */
  readonly label: string;
}

export function pidFile(): string {
  return process.env[PID_FILE_ENV] ?? join(tmpdir(), `kv-e2e-pids-${process.pid}.tsv`);
}

/** The start time `ps` reports for a live process, or '' if there is none. */
export function startTimeOf(pid: number): string {
  const result = spawnSync('ps', ['-o', 'lstart=', '-p', String(pid)], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : '';
}

/** Appends a started process to the pid file. */
export function recordPid(pid: number, label: string): void {
  const line = [pid, startTimeOf(pid), label.replace(/[\t\n]/g, ' ')].join('\t');
  appendFileSync(pidFile(), `${line}\n`);
}

export function readPidRecords(file = pidFile()): PidRecord[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      const [pid = '', started = '', label = ''] = line.split('\t');
      return { pid: Number(pid), started, label };
    });
}

/** `process.kill(pid, 0)`: true unless the kernel says there is no such process (ESRCH). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * The recorded processes still running: alive, and with the start time recorded (a pid
 * reused by an unrelated process has another). A process gone before it was recorded has
 * no start time and cannot be running.
 */
export function survivors(records: readonly PidRecord[]): PidRecord[] {
  return records.filter(
    (r) => r.started !== '' && isAlive(r.pid) && startTimeOf(r.pid) === r.started,
  );
}

/** Every descendant of `pid` (children, their children, ...), from `ps`. */
export function descendantsOf(pid: number): number[] {
  const result = spawnSync('ps', ['-A', '-o', 'pid=,ppid='], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`ps failed: ${result.stderr}`);
  const children = new Map<number, number[]>();
  for (const line of result.stdout.split('\n')) {
    const [child, parent] = line.trim().split(/\s+/).map(Number);
    if (child === undefined || parent === undefined || Number.isNaN(child)) continue;
    children.set(parent, [...(children.get(parent) ?? []), child]);
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift() as number) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}
