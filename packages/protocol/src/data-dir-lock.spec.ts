import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOCK_FILE, lockDataDir, type DataDirLock } from './data-dir-lock';
import { DataDirLockedError } from './errors';

describe('lockDataDir', () => {
  let dir: string;
  let locks: DataDirLock[];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kv-lock-'));
    locks = [];
  });
  afterEach(() => {
    for (const lock of locks) lock.release();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates the directory and a lock file holding this process id, removed on release', () => {
    const data = join(dir, 'a', 'b');
    const lock = lockDataDir(data);
    expect(readFileSync(join(data, LOCK_FILE), 'utf8').trim()).toBe(String(process.pid));
    lock.release();
    lock.release();
    expect(existsSync(join(data, LOCK_FILE))).toBe(false);
    locks.push(lockDataDir(data));
  });

  it('refuses a second server of the same process on the same directory', () => {
    locks.push(lockDataDir(dir));
    expect(() => lockDataDir(join(dir, '.'))).toThrow(DataDirLockedError);
  });

  it('refuses a directory a running process holds, naming the process and what to do', () => {
    writeFileSync(join(dir, LOCK_FILE), `${process.ppid}\n`);
    let error: unknown;
    try {
      lockDataDir(dir);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(DataDirLockedError);
    expect((error as DataDirLockedError).code).toBe('KV_DATA_DIR_LOCKED');
    expect((error as Error).message).toBe(
      `data directory ${dir} is in use by process ${process.ppid} (lock file ${dir}/${LOCK_FILE}): stop that process or choose another --data-dir`,
    );
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8').trim()).toBe(String(process.ppid));
  });

  it('takes over a lock left by a process that no longer runs, or a malformed one', () => {
    const gone = spawnSync(process.execPath, ['-e', '']).pid;
    writeFileSync(join(dir, LOCK_FILE), `${gone}\n`);
    const lock = lockDataDir(dir);
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8').trim()).toBe(String(process.pid));
    lock.release();
    writeFileSync(join(dir, LOCK_FILE), 'not a pid');
    locks.push(lockDataDir(dir));
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8').trim()).toBe(String(process.pid));
  });

  it('takes over a lock with this process id that this process does not hold (a reused pid)', () => {
    writeFileSync(join(dir, LOCK_FILE), `${process.pid}\n`);
    locks.push(lockDataDir(dir));
    expect(() => lockDataDir(dir)).toThrow(DataDirLockedError);
  });
});
