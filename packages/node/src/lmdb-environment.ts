import { join } from 'node:path';
import { open, type RootDatabase } from 'lmdb';
import type { FsyncMode } from './engine';
import { NodeError } from './errors';
import { WriteAheadLog, type LogRecovery, type LogSync } from './write-ahead-log';

/** Where, inside the database's directory, the write-ahead log keeps its segments. */
const LOG_DIR = 'log';

/** Options of {@link LmdbEngine.open}. */
export interface LmdbEngineOptions {
  /** Directory holding the database files (created if missing). */
  readonly path: string;
  /** @default 'always' */
  readonly fsync?: FsyncMode;
  /**
   * Under `fsync: 'periodic'`, the longest a committed write waits for its flush: every
   * this many milliseconds, what was committed since the last flush is synced to disk.
   * @default 1000
   */
  readonly fsyncIntervalMs?: number;
  /**
   * Under `fsync: 'always'`, the size past which the write-ahead log begins a new segment
   * (the older ones are deleted once LMDB holds what they hold on disk).
   * @default DEFAULT_SEGMENT_BYTES (4 MiB)
   */
  readonly logSegmentBytes?: number;
  /**
   * Under `fsync: 'always'`, the bytes of logged writes that may wait to be applied to
   * LMDB; past them, a write is acknowledged only once applied.
   * @default 64 MiB
   */
  readonly maxPendingBytes?: number;
  /**
   * Told the cause when commits begin to fail (a full disk), and `undefined` once one
   * succeeds again. Under `fsync: 'always'` the writes stay in the log meanwhile and are
   * applied again, up to a second apart; under the other modes the writes are refused
   * (CommitFailedError).
   */
  readonly onTrouble?: (cause: Error | undefined) => void;
  /**
   * Under `fsync: 'always'`, told of every sync of the write-ahead log: the writes it made
   * durable, its bytes, and how long its write and `fdatasync` took (for metrics).
   */
  readonly onLogSync?: (sync: LogSync) => void;
}

/** The default of {@link LmdbEngineOptions.fsyncIntervalMs}, as Redis's `appendfsync everysec`. */
export const DEFAULT_FSYNC_INTERVAL_MS = 1000;

/** A generous initial map; LMDB grows the file only as data arrives. */
const MAP_SIZE = 1024 ** 3;

/**
 * Opens the LMDB environment in `options.path` as the engine's fsync mode wants it, with
 * the fsync mode defaulted and the interval defaulted and checked.
 */
export function openEnvironment(options: LmdbEngineOptions): {
  db: RootDatabase<Buffer, Buffer>;
  fsync: FsyncMode;
  interval: number;
} {
  const fsync = options.fsync ?? 'always';
  const interval = options.fsyncIntervalMs ?? DEFAULT_FSYNC_INTERVAL_MS;
  if (!Number.isInteger(interval) || interval < 1)
    throw new NodeError(`the fsync interval must be a whole number of ms from 1, got ${interval}`);
  const db = open<Buffer, Buffer>({
    path: options.path,
    keyEncoding: 'binary',
    encoding: 'binary',
    mapSize: MAP_SIZE,
    maxDbs: 3,
    // Under `always`, commit then sync without holding the write lock (and without
    // letting a crash of the machine tear the database), so the log can tell when LMDB
    // holds its writes on disk. The other modes commit without syncing: `periodic`
    // syncs on its own timer.
    overlappingSync: fsync === 'always',
    separateFlushed: fsync === 'always',
    noSync: fsync !== 'always',
  });
  return { db, fsync, interval };
}

/**
 * Opens the write-ahead log in `options.path` under `always` (its observer set), or, under
 * the other modes, reads what one left by a run under `always` holds: acknowledged writes,
 * to be replayed and then deleted once LMDB has synced them. Closes `db` if it fails.
 */
export function openLog(
  options: LmdbEngineOptions,
  fsync: FsyncMode,
  db: RootDatabase<Buffer, Buffer>,
): { log?: WriteAheadLog; recovery: LogRecovery | undefined; logDir: string } {
  const logDir = join(options.path, LOG_DIR);
  try {
    if (fsync !== 'always') return { recovery: WriteAheadLog.recover(logDir), logDir };
    const { log, recovery } = WriteAheadLog.open(logDir, options.logSegmentBytes);
    log.onSynced = options.onLogSync;
    return { log, recovery, logDir };
  } catch (err) {
    void db.close();
    throw err;
  }
}
