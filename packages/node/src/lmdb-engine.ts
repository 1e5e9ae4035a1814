import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { TOKEN_SPACE, type TokenRange } from '@kv/ring';
import { open, type Database, type RootDatabase } from 'lmdb';
import type { EngineEntry, EngineVersion, FsyncMode, StorageEngine } from './engine';
import type { HintJournal } from './hints';
import { EngineClosedError, NodeError } from './errors';
import type { RecordVersion, StoredRecord } from './record';
import {
  TOKEN_BYTES,
  decode,
  encode,
  isTombstone,
  storedKey,
  tokenBytes,
  versionOf,
} from './lmdb-records';
import type { SyncProgressJournal, UnsyncedRange } from './unsynced-ranges';

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
}

/** The default of {@link LmdbEngineOptions.fsyncIntervalMs}, as Redis's `appendfsync everysec`. */
export const DEFAULT_FSYNC_INTERVAL_MS = 1000;

/** Bytes charged per record on top of its key and value, like MemoryEngine's estimate. */
const RECORD_OVERHEAD = 64;
/** Records read per step of an iteration: no LMDB read transaction outlives a step. */
const PAGE = 512;
/** Where the meta database keeps the totals: records, tombstones, bytes (float64 each). */
const TOTALS_KEY = Buffer.from('totals');
const TOTALS_BYTES = 24;
/** A generous initial map; LMDB grows the file only as data arrives. */
const MAP_SIZE = 1024 ** 3;

/** A write not yet committed: what reads see for its key meanwhile (undefined: removed). */
interface Pending {
  readonly value: Buffer | undefined;
  readonly record: StoredRecord | undefined;
}

/**
 * A durable engine on LMDB (a memory-mapped, copy-on-write B-tree: a crash at any moment
 * leaves the last committed transaction intact, with no recovery step). Each record is
 * stored under its key's token (48 bits, big-endian) followed by the key, so a token range
 * is one cursor walk; the value is the record's version, then its value bytes.
 *
 * Writes of one event turn are committed together (lmdb-js batches them into one
 * transaction on its own thread); until then reads of those keys are answered from a map
 * of pending writes, so `get` right after `put` sees the put. Counts and byte totals are
 * kept in memory, computed by one pass when the database opens.
 */
export class LmdbEngine implements StorageEngine {
  private readonly pending = new Map<string, Pending>();
  private records = 0;
  private tombstoneCount = 0;
  private heldBytes = 0;
  private closing: Promise<void> | undefined;
  /** The totals changed since they were last written (with the transaction that changed them). */
  private totalsDirty = false;
  private dbClosed = false;
  /** Under `periodic`: the timer that flushes, and whether anything awaits a flush. */
  private flushTimer: NodeJS.Timeout | undefined;
  private unflushed = false;
  private flushChain: Promise<void> = Promise.resolve();

  /** The records, in a database of their own beside the hints. */
  private readonly db: Database<Buffer, Buffer>;
  private readonly hints: Database<Buffer, Buffer>;
  /** What the node keeps of its own state beside records and hints (its sync progress). */
  private readonly meta: Database<Buffer, Buffer>;

  private constructor(
    private readonly root: RootDatabase<Buffer, Buffer>,
    private readonly fsync: FsyncMode,
    fsyncIntervalMs: number,
  ) {
    this.db = root.openDB({ name: 'records', keyEncoding: 'binary', encoding: 'binary' });
    this.hints = root.openDB({ name: 'hints', keyEncoding: 'binary', encoding: 'binary' });
    this.meta = root.openDB({ name: 'meta', keyEncoding: 'binary', encoding: 'binary' });
    // The totals are written by every transaction that changes them, so a restart reads
    // them instead of walking every record (seconds for millions); a database without them
    // (written before they were kept) is counted once.
    const totals = this.meta.getBinary(TOTALS_KEY);
    if (totals?.length === TOTALS_BYTES) {
      this.records = totals.readDoubleLE(0);
      this.tombstoneCount = totals.readDoubleLE(8);
      this.heldBytes = totals.readDoubleLE(16);
    } else {
      for (const { key, value } of this.db.getRange({})) this.count(key, value, 1);
      this.totalsDirty = true;
      this.saveTotals();
    }
    // lmdb-js calls this as it closes the batch of an event turn: the totals join the
    // transaction of the writes that changed them.
    root.on('beforecommit', () => this.saveTotals());
    if (fsync === 'periodic') {
      // A failed sync is tried again at the next tick.
      const tick = (): void =>
        void this.flush().catch(() => {
          this.unflushed = true;
        });
      this.flushTimer = setInterval(tick, fsyncIntervalMs);
      this.flushTimer.unref();
    }
  }

  /** Opens (or creates) the database in `options.path`. */
  static open(options: LmdbEngineOptions): LmdbEngine {
    const fsync = options.fsync ?? 'always';
    const interval = options.fsyncIntervalMs ?? DEFAULT_FSYNC_INTERVAL_MS;
    if (!Number.isInteger(interval) || interval < 1)
      throw new NodeError(
        `the fsync interval must be a whole number of ms from 1, got ${interval}`,
      );
    const db = open<Buffer, Buffer>({
      path: options.path,
      keyEncoding: 'binary',
      encoding: 'binary',
      mapSize: MAP_SIZE,
      maxDbs: 3,
      // Commit then flush without holding the write lock, so the next batch commits while
      // the previous one syncs; the write's own promise tells when it is on disk. The other
      // modes commit without syncing: `periodic` syncs on its own timer.
      overlappingSync: fsync === 'always',
      separateFlushed: fsync === 'always',
      noSync: fsync !== 'always',
    });
    return new LmdbEngine(db, fsync, interval);
  }

  get size(): number {
    return this.records;
  }

  get tombstones(): number {
    return this.tombstoneCount;
  }

  get bytes(): number {
    return this.heldBytes;
  }

  get(key: Buffer): StoredRecord | undefined {
    const stored = storedKey(key);
    const pending = this.pending.get(stored.toString('latin1'));
    if (pending) return pending.record;
    const value = this.db.getBinary(stored);
    return value === undefined ? undefined : decode(value).record;
  }

  peek(key: Buffer): RecordVersion | undefined {
    const stored = storedKey(key);
    const pending = this.pending.get(stored.toString('latin1'));
    if (pending) return pending.record && versionOf(pending.record);
    // Read in place: only the header is decoded (the origin copied), never the value.
    const value = this.db.getBinaryFast(stored);
    return value === undefined ? undefined : versionOf(decode(value).record);
  }

  put(key: Buffer, record: StoredRecord): Promise<void> {
    this.checkOpen();
    const stored = storedKey(key);
    const k = stored.toString('latin1');
    const value = encode(key, record);
    const old = this.current(stored, k);
    if (old) this.count(stored, old, -1);
    this.count(stored, value, 1);
    // What reads see until the commit: the record as given, its value a view of the copy.
    const pending: Pending = {
      value,
      record: {
        ts: record.ts,
        origin: record.origin,
        expiresAt: record.expiresAt,
        value: record.value === null ? null : value.subarray(value.length - record.value.length),
      },
    };
    return this.write(k, pending, this.db.put(stored, value));
  }

  remove(key: Buffer): Promise<void> | void {
    this.checkOpen();
    const stored = storedKey(key);
    const k = stored.toString('latin1');
    const old = this.current(stored, k);
    if (!old) return;
    this.count(stored, old, -1);
    return this.write(k, { value: undefined, record: undefined }, this.db.remove(stored));
  }

  *versions(range?: TokenRange): IterableIterator<EngineVersion> {
    for (const [key, record, t] of this.entries(range)) yield [key, versionOf(record), t];
  }

  /**
   * Walks `range` a page at a time, each page read in one short read transaction, so an
   * iterator kept open (a SCAN cursor) pins no old snapshot of the database. Writes not yet
   * committed replace what the page read for their keys.
   */
  *entries(range?: TokenRange): IterableIterator<EngineEntry> {
    if (range && range.end <= range.start) return;
    let start = range ? tokenBytes(range.start) : undefined;
    const end = range && range.end < TOKEN_SPACE ? tokenBytes(range.end) : undefined;
    let exclusiveStart = false;
    for (;;) {
      if (this.closing) return;
      const page = [...this.db.getRange({ start, end, exclusiveStart, limit: PAGE })];
      for (const { key: stored, value } of page) {
        const decoded = decode(value, stored);
        let record = decoded.record;
        if (this.pending.size > 0) {
          const pending = this.pending.get(stored.toString('latin1'));
          if (pending && !pending.record) continue;
          if (pending) record = pending.record as StoredRecord;
        }
        yield [decoded.key, record, stored.readUIntBE(0, TOKEN_BYTES)];
      }
      if (page.length < PAGE) return;
      start = page[page.length - 1]?.key;
      exclusiveStart = true;
    }
  }

  /**
   * Writes a consistent copy of the database, as of now, into the directory `path`
   * (created if missing; it must hold no database yet). Writes go on meanwhile: the copy is
   * read from one snapshot.
   */
  async backup(path: string): Promise<void> {
    this.checkOpen();
    mkdirSync(path, { recursive: true });
    if (existsSync(join(path, 'data.mdb')))
      throw new NodeError(`${path} already holds a database: back up into a new directory`);
    await this.root.committed;
    await this.root.backup(path, false);
  }

  /**
   * Syncs to disk what was committed since the last sync (under `periodic`, the timer does
   * it every interval). Resolves once it is on disk.
   */
  flush(): Promise<void> {
    if (this.unflushed) {
      this.unflushed = false;
      this.flushChain = this.flushChain
        .catch(() => undefined)
        .then(async () => {
          await this.root.committed;
          // lmdb-js syncs on a worker thread (mdb_env_sync, forced) and calls back.
          const env = this.root as unknown as { sync(done: (err?: Error) => void): void };
          await new Promise<void>((resolve, reject) =>
            env.sync((err) => (err ? reject(err) : resolve())),
          );
        });
    }
    return this.flushChain;
  }

  /** Waits for every write made so far to be durable, then closes the database. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.flushTimer);
      await this.root.committed;
      if (this.fsync === 'periodic') {
        this.unflushed = true;
        await this.flush();
      }
      await this.root.flushed;
      this.dbClosed = true;
      await this.root.close();
      this.pending.clear();
    })();
    return this.closing;
  }

  /**
   * Where the node's hints are kept, so a restart does not lose writes it promised to
   * deliver. Hint writes join the next transaction; nobody waits for them (a hint lost to a
   * power cut is repaired by anti-entropy).
   */
  hintJournal(): HintJournal {
    const hintKey = (replica: string, key: Buffer): Buffer => {
      const id = Buffer.from(replica);
      const length = Buffer.allocUnsafe(2);
      length.writeUInt16BE(id.length);
      return Buffer.concat([length, id, createHash('sha256').update(key).digest()]);
    };
    const quietly = (write: () => Promise<boolean>): void => {
      if (this.closing) return;
      this.unflushed = true;
      write().catch(() => undefined);
    };
    return {
      load: () =>
        [...this.hints.getRange({})].map(({ key, value }) => {
          const keyLength = value.readUInt16LE(0);
          return {
            replica: key.toString('utf8', 2, 2 + key.readUInt16BE(0)),
            key: value.subarray(2, 2 + keyLength),
            record: decode(value.subarray(2 + keyLength)).record,
          };
        }),
      save: (replica, key, record) => {
        const length = Buffer.allocUnsafe(2);
        length.writeUInt16LE(key.length);
        const value = Buffer.concat([length, key, encode(Buffer.alloc(0), record)]);
        quietly(() => this.hints.put(hintKey(replica, key), value));
      },
      remove: (replica, key) => quietly(() => this.hints.remove(hintKey(replica, key))),
    };
  }

  /**
   * Where the node's unsynced ranges are kept, so a restart in the middle of a join (or
   * while the previous owners of a gained range are away) does not forget whom to sync
   * them from. Saves join the next transaction; nobody waits for them.
   */
  syncProgressJournal(): SyncProgressJournal {
    const key = Buffer.from('unsynced-ranges');
    return {
      load: () => {
        const saved = this.meta.getBinary(key);
        return saved === undefined ? [] : (JSON.parse(saved.toString('utf8')) as UnsyncedRange[]);
      },
      save: (ranges) => {
        if (this.closing) return;
        this.unflushed = true;
        this.meta.put(key, Buffer.from(JSON.stringify(ranges))).catch(() => undefined);
      },
    };
  }

  private checkOpen(): void {
    if (this.closing) throw new EngineClosedError();
  }

  /**
   * The stored value of a key (`k`: its stored key in latin1), pending writes included
   * (undefined if none), for counting: read in place, valid only until the next read.
   */
  private current(stored: Buffer, k: string): Buffer | undefined {
    const pending = this.pending.get(k);
    if (pending) return pending.value;
    return this.db.getBinaryFast(stored);
  }

  /**
   * Makes a write just started (`written`) visible to reads at once; resolves once it is
   * committed, and also flushed under `--fsync always`.
   */
  private async write(
    k: string,
    mine: Pending,
    written: Promise<boolean> & { flushed?: Promise<boolean> },
  ): Promise<void> {
    this.pending.set(k, mine);
    this.unflushed = true;
    try {
      await written;
      if (this.fsync === 'always') await (written.flushed ?? this.root.flushed);
    } finally {
      if (this.pending.get(k) === mine) this.pending.delete(k);
    }
  }

  /** Writes the totals if they changed (joining the batch being written). */
  private saveTotals(): void {
    // Closing waits for the batches under way, whose totals must still be written.
    if (!this.totalsDirty || this.dbClosed) return;
    this.totalsDirty = false;
    const totals = Buffer.allocUnsafe(TOTALS_BYTES);
    totals.writeDoubleLE(this.records, 0);
    totals.writeDoubleLE(this.tombstoneCount, 8);
    totals.writeDoubleLE(this.heldBytes, 16);
    this.meta.put(TOTALS_KEY, totals).catch(() => undefined);
  }

  /** Adds (`sign` 1) or takes back (-1) a stored record's share of the totals. */
  private count(stored: Buffer, value: Buffer, sign: 1 | -1): void {
    this.totalsDirty = true;
    this.records += sign;
    if (isTombstone(value)) this.tombstoneCount += sign;
    this.heldBytes += sign * (stored.length + value.length + RECORD_OVERHEAD);
  }
}
