import { join } from 'node:path';
import { lockDataDir } from '@kv/protocol';
import type { StorageEngine } from './engine';
import { NodeError } from './errors';
import { LmdbEngine } from './lmdb-engine';
import { MemoryEngine } from './memory-engine';
import type { ResolvedNodeOptions } from './resolve-node-options';
import type { LogSync } from './write-ahead-log';

/** Where, inside a node's data directory, the LMDB engine keeps its files. */
export const LMDB_SUBDIR = 'lmdb';

/** The engine a node runs on, and what it holds open for it. */
export interface NodeStorage {
  readonly engine: StorageEngine;
  /** Closes the engine, then gives the data directory up. */
  close(): Promise<void>;
  /** One line for the log at start: where the records are and what opening found. */
  readonly description?: string;
}

/** What a node hears from its LMDB engine (see LmdbEngineOptions). */
export interface StorageObservers {
  /** LMDB's commits began to fail (a full disk), with the cause; `undefined`: one succeeded again. */
  readonly onTrouble?: (cause: Error | undefined) => void;
  /** The write-ahead log synced (under `--fsync always`). */
  readonly onLogSync?: (sync: LogSync) => void;
}

/**
 * Opens the engine the options name. A data directory is locked first (one process per
 * directory: two would each overwrite what the other acknowledged), then its LMDB files
 * (`<dataDir>/lmdb`) are opened.
 * @throws DataDirLockedError while another process holds the directory
 */
export function openStorage(
  options: ResolvedNodeOptions,
  { onTrouble, onLogSync }: StorageObservers = {},
): NodeStorage {
  const { engine, dataDir } = options;
  if (typeof engine !== 'string') return { engine, close: async () => void (await engine.close()) };
  if (engine === 'memory' || dataDir === undefined) {
    const memory = new MemoryEngine();
    return { engine: memory, close: () => Promise.resolve(memory.close()) };
  }
  const lock = lockDataDir(dataDir);
  try {
    const lmdb = LmdbEngine.open({
      path: join(lock.dir, LMDB_SUBDIR),
      fsync: options.fsync,
      fsyncIntervalMs: options.fsyncIntervalMs,
      onTrouble,
      onLogSync,
    });
    const replayed =
      lmdb.replayed > 0 ? `; ${lmdb.replayed} write(s) replayed from the write-ahead log` : '';
    return {
      engine: lmdb,
      close: () => lmdb.close().finally(() => lock.release()),
      description: `Data directory ${lock.dir} (fsync ${options.fsync}): ${lmdb.size} record(s)${replayed}`,
    };
  } catch (err) {
    lock.release();
    throw openFailure(err, lock.dir);
  }
}

/** Codes of a disk that is full or failing: ENOSPC and EIO, by name or (from LMDB) number. */
const DISK_TROUBLE = new Set<unknown>(['ENOSPC', 'EIO', 28, 5]);

/**
 * Why a data directory could not be opened, saying where, and asking about the disk when
 * the error is a full or failing one (reopening replays the write-ahead log into LMDB,
 * which needs room). The engine's own refusals (an invalid option) pass unchanged.
 */
function openFailure(err: unknown, dir: string): unknown {
  if (err instanceof NodeError || !(err instanceof Error)) return err;
  const disk = DISK_TROUBLE.has((err as NodeJS.ErrnoException | { code?: unknown }).code);
  return new NodeError(
    `opening the data directory ${dir} failed (${err.message})${disk ? ': is its disk full or failing?' : ''}`,
    { cause: err },
  );
}
