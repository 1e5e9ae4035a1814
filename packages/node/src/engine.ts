import type { TokenRange } from '@kv/ring';
import type { HintJournal } from './hints';
import type { SyncProgressJournal } from './unsynced-ranges';
import type { RecordVersion, StoredRecord } from './record';

/**
 * When a write is acknowledged, from safest to fastest:
 * - `always`: once its transaction is flushed to disk (writes of one event turn share a
 *   transaction and its one sync, so concurrent writes are group-committed);
 * - `periodic`: once committed (it survives the process crashing); what was committed is
 *   flushed to disk every `fsyncIntervalMs`, so a power loss can lose the writes of the
 *   last interval;
 * - `never`: once committed, and the node never asks for a flush: the operating system
 *   writes when it chooses (a cache that may lose recent writes on power loss).
 */
export const FSYNC_MODES = ['always', 'periodic', 'never'] as const;
export type FsyncMode = (typeof FSYNC_MODES)[number];

/** A record as iteration yields it: key, record and the key's token. */
export type EngineEntry = [key: Buffer, record: StoredRecord, token: number];

/** A version as iteration yields it: key, version (no value) and the key's token. */
export type EngineVersion = [key: Buffer, version: RecordVersion, token: number];

/**
 * Where a node keeps its records, reached only through `Store`. The in-memory engine is
 * the default; a durable engine (LMDB) implements the same contract so callers never
 * change. Keys are raw bytes.
 *
 * Reads are synchronous: an in-memory map and a memory-mapped B-tree both answer at once.
 * A durable engine either returns a promise from `put` and `remove`, resolved once the
 * change would survive a crash, or returns nothing and offers {@link durable}: a promise
 * for every change accepted so far, which whoever acknowledges the change waits for first.
 * Either way a write is acknowledged only once it would survive a crash.
 *
 * Records are kept in token order: iteration walks a token range (the whole token space
 * when none is given) in ascending token order, keys of equal tokens by their bytes, so
 * data movement reads only the ranges it moves.
 */
export interface StorageEngine {
  /** The record of a key, tombstones and expired records included. */
  get(key: Buffer): StoredRecord | undefined;
  /** The version of a key's record without its value (cheaper than `get` for merging). */
  peek(key: Buffer): RecordVersion | undefined;
  /**
   * Stores a record as it is (last-writer-wins is decided by the caller). The key and value
   * may be views into a network buffer that is reused afterwards: the engine copies what it
   * keeps and holds no reference to either. `token` is the key's token when the caller has
   * computed it already (an engine may use it rather than hash the key again).
   */
  put(key: Buffer, record: StoredRecord, token?: number): void | Promise<void>;
  /**
   * The token kept with `key`'s record, when the engine keeps one (undefined for a key it
   * does not hold): cheaper than hashing the key again.
   */
  tokenOf?(key: Buffer): number | undefined;
  /** Forgets a key entirely (purging a tombstone or an expired record). */
  remove(key: Buffer): void | Promise<void>;
  /** Key and version of every record whose token lies in `range`, in token order. */
  versions(range?: TokenRange): IterableIterator<EngineVersion>;
  /** Every record whose token lies in `range`, in token order. */
  entries(range?: TokenRange): IterableIterator<EngineEntry>;
  /** Number of records held, tombstones included. */
  readonly size: number;
  /** How many of the records held are tombstones. */
  readonly tombstones: number;
  /** Bytes of keys and values held (an estimate for engines that cannot know exactly). */
  readonly bytes: number;
  /** Releases what the engine holds open. */
  close(): void | Promise<void>;
  /**
   * Writes a consistent copy of every record, as of one moment, into the directory `path`
   * while writes go on. Absent on engines with nothing on disk to copy.
   */
  backup?(path: string): Promise<void>;
  /**
   * Writes accepted and not yet in the engine's main store, with their bytes (a durable
   * engine's write-ahead log not yet applied); absent on engines without such a stage.
   */
  readonly backlog?: { readonly writes: number; readonly bytes: number };
  /**
   * Whether the engine cannot commit writes now (a full or failing disk), as it last
   * reported (see LmdbEngineOptions.onTrouble); absent on engines with nothing on disk.
   */
  readonly commitsFailing?: boolean;
  /**
   * Resolves if the engine fails so that it can make no further write durable (a failed
   * sync of its log): what it acknowledged is safe, nothing after is, and its node stops.
   */
  readonly failed?: Promise<Error>;
  /**
   * Resolves once every change accepted so far would survive a crash; undefined when all
   * of them already would. Rejects if the engine failed to make them durable: they must
   * not be acknowledged. Absent on engines whose `put` and `remove` return that promise
   * themselves, or that keep nothing on disk: a server holds replies for an engine that
   * has it, and only for one.
   */
  durable?(): Promise<void> | undefined;
  /**
   * Resolves once the change of `key` that reads see now is committed, while its commit is
   * under way (undefined otherwise, and on engines whose replies wait for {@link durable}
   * instead); rejects if that commit fails. An answer vouching for the version a key holds
   * waits for it, as the answer to the write that made it does.
   */
  committing?(key: Buffer): Promise<void> | undefined;
  /** Where hints survive a restart; absent on engines with nothing on disk. */
  hintJournal?(): HintJournal;
  /**
   * Where the ranges a node has not synced yet survive a restart (see `UnsyncedRanges`);
   * absent on engines with nothing on disk.
   */
  syncProgressJournal?(): SyncProgressJournal;
}

/** True if token `t` lies in `range` (`start ≤ t < end`, as @kv/ring defines ranges). */
export function inRange(t: number, range: TokenRange): boolean {
  return t >= range.start && t < range.end;
}
