import { existsSync, mkdirSync, rmSync } from 'node:fs';
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
import { hintJournalIn, syncProgressJournalIn } from './lmdb-journals';
import { PendingWrites, type Pending } from './lmdb-pending';
import type { SyncProgressJournal } from './unsynced-ranges';
import { WriteAheadLog, type LogRecovery } from './write-ahead-log';

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
/** The write-ahead log's directory inside the data directory. */
const LOG_DIR = 'log';
/** A generous initial map; LMDB grows the file only as data arrives. */
const MAP_SIZE = 1024 ** 3;

/**
 * Under `--fsync always`, how often writes already safe in the log are applied to LMDB in
 * one transaction (and one LMDB sync), unless {@link APPLY_ENTRIES} are waiting first.
 */
const APPLY_INTERVAL_MS = 50;
const APPLY_ENTRIES = 8192;
/** The default of {@link LmdbEngineOptions.maxPendingBytes}. */
const MAX_PENDING_BYTES = 64 * 1024 * 1024;

/** Record count, tombstone count and bytes, as the meta database keeps them. */
interface Totals {
  records: number;
  tombstones: number;
  bytes: number;
}

/**
 * A durable engine on LMDB (a memory-mapped, copy-on-write B-tree: a crash at any moment
 * leaves the last committed transaction intact, with no recovery step). Each record is
 * stored under its key's token (48 bits, big-endian) followed by the key, so a token range
 * is one cursor walk; the value is the record's version, then its value bytes.
 *
 * Under `--fsync always` a write is durable, and acknowledged, once it is in the
 * write-ahead log: one append and one `fdatasync` for all the writes of an event turn (and
 * all that arrive while the previous sync runs), as Redis syncs its append-only file. What
 * the log holds is applied to LMDB every {@link APPLY_INTERVAL_MS} in one transaction and
 * one LMDB sync, so LMDB's syncs, which write every B-tree page a commit touched, are few
 * and do not slow the log's. A log segment is deleted once LMDB holds its writes on disk;
 * opening replays what is left. Under `periodic` and `never` there is no log: writes of
 * one event turn are committed together (lmdb-js batches them on its own thread) and
 * acknowledged at commit.
 *
 * Until a write is in LMDB, reads of its key are answered from the pending writes, and
 * iteration merges them in key order. Counts and byte totals are kept in memory, and
 * saved with each transaction that changes them.
 */
export class LmdbEngine implements StorageEngine {
  /** Writes replayed from the write-ahead log when the engine opened (after a crash). */
  readonly replayed: number;
  private readonly pending = new PendingWrites();
  /** The key last asked about, where it is stored, and that as a string (see where()). */
  private lastKey: Buffer | undefined;
  private lastStored: Buffer = Buffer.alloc(0);
  private lastK = '';
  /** The totals of every write accepted; `stored` those of what LMDB holds. */
  private readonly stored: Totals = { records: 0, tombstones: 0, bytes: 0 };
  /** Without a log, writes reach LMDB in the turn they are made: the same totals. */
  private readonly live: Totals;
  private closing: Promise<void> | undefined;
  /** The stored totals changed since they were last written. */
  private totalsDirty = false;
  private dbClosed = false;
  /** Under `periodic`: the timer that flushes, and whether anything awaits a flush. */
  private flushTimer: NodeJS.Timeout | undefined;
  private unflushed = false;
  private flushChain: Promise<void> = Promise.resolve();
  /** Under `always`: the next application of the log to LMDB, and the one under way. */
  private applyTimer: NodeJS.Timeout | undefined;
  private applying: Promise<void> | undefined;

  /** The records, in a database of their own beside the hints. */
  private readonly db: Database<Buffer, Buffer>;
  private readonly hints: Database<Buffer, Buffer>;
  /** What the node keeps of its own state beside records and hints (its sync progress). */
  private readonly meta: Database<Buffer, Buffer>;

  private constructor(
    private readonly root: RootDatabase<Buffer, Buffer>,
    private readonly fsync: FsyncMode,
    fsyncIntervalMs: number,
    private readonly log: WriteAheadLog | undefined,
    recovery: LogRecovery | undefined,
    private readonly maxPendingBytes = MAX_PENDING_BYTES,
  ) {
    this.db = root.openDB({ name: 'records', keyEncoding: 'binary', encoding: 'binary' });
    this.hints = root.openDB({ name: 'hints', keyEncoding: 'binary', encoding: 'binary' });
    this.meta = root.openDB({ name: 'meta', keyEncoding: 'binary', encoding: 'binary' });
    // The totals are written by every transaction that changes them, so a restart reads
    // them instead of walking every record (seconds for millions); a database without them
    // (written before they were kept) is counted once.
    const totals = this.meta.getBinary(TOTALS_KEY);
    if (totals?.length === TOTALS_BYTES) {
      this.stored.records = totals.readDoubleLE(0);
      this.stored.tombstones = totals.readDoubleLE(8);
      this.stored.bytes = totals.readDoubleLE(16);
    } else {
      for (const { key, value } of this.db.getRange({})) count(this.stored, key, value, 1);
      this.totalsDirty = true;
      void this.saveTotals();
    }
    if (recovery) this.replay(recovery);
    this.replayed = recovery?.entries.length ?? 0;
    this.live = log ? { ...this.stored } : this.stored;
    // lmdb-js calls this as it closes the batch of an event turn: the totals join the
    // transaction of the writes that changed them.
    root.on('beforecommit', () => void this.saveTotals());
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
      // Under `always`, commit then sync without holding the write lock (and without
      // letting a crash of the machine tear the database), so the log can tell when LMDB
      // holds its writes on disk. The other modes commit without syncing: `periodic`
      // syncs on its own timer.
      overlappingSync: fsync === 'always',
      separateFlushed: fsync === 'always',
      noSync: fsync !== 'always',
    });
    const logDir = join(options.path, LOG_DIR);
    if (fsync !== 'always') {
      // A log left by a run under `always` holds acknowledged writes: replayed, and deleted
      // once LMDB has synced them.
      let leftover: LogRecovery | undefined;
      try {
        leftover = WriteAheadLog.recover(logDir);
      } catch (err) {
        void db.close();
        throw err;
      }
      const engine = new LmdbEngine(db, fsync, interval, undefined, leftover);
      if (leftover) engine.dropLog(logDir);
      return engine;
    }
    try {
      const { log, recovery } = WriteAheadLog.open(logDir, options.logSegmentBytes);
      return new LmdbEngine(db, fsync, interval, log, recovery, options.maxPendingBytes);
    } catch (err) {
      void db.close();
      throw err;
    }
  }

  get size(): number {
    return this.live.records;
  }

  get tombstones(): number {
    return this.live.tombstones;
  }

  get bytes(): number {
    return this.live.bytes;
  }

  /** Writes logged and not yet applied to LMDB (under `--fsync always`), and their bytes. */
  get backlog(): { writes: number; bytes: number } {
    return this.log
      ? { writes: this.pending.size, bytes: this.pending.bytes }
      : { writes: 0, bytes: 0 };
  }

  /** The key's token, from where it is stored. */
  tokenOf(key: Buffer): number {
    return this.where(key).readUIntBE(0, TOKEN_BYTES);
  }

  get(key: Buffer): StoredRecord | undefined {
    const stored = this.where(key);
    const pending = this.pending.get(this.lastK);
    if (pending) return pending.record;
    const value = this.db.getBinary(stored);
    return value === undefined ? undefined : decode(value).record;
  }

  peek(key: Buffer): RecordVersion | undefined {
    const stored = this.where(key);
    const pending = this.pending.get(this.lastK);
    if (pending) return pending.record && versionOf(pending.record);
    // Read in place: only the header is decoded (the origin copied), never the value.
    const value = this.db.getBinaryFast(stored);
    return value === undefined ? undefined : versionOf(decode(value).record);
  }

  put(key: Buffer, record: StoredRecord): Promise<void> {
    this.checkOpen();
    const stored = this.where(key);
    const k = this.lastK;
    const value = encode(key, record);
    const old = this.current(stored, k);
    if (old) count(this.live, stored, old, -1);
    count(this.live, stored, value, 1);
    this.totalsDirty = true;
    // What reads see until LMDB holds it: the record as given, its value a view of the copy.
    return this.write({
      k,
      stored,
      value,
      record: {
        ts: record.ts,
        origin: record.origin,
        expiresAt: record.expiresAt,
        value: record.value === null ? null : value.subarray(value.length - record.value.length),
      },
    });
  }

  remove(key: Buffer): Promise<void> | void {
    this.checkOpen();
    const stored = this.where(key);
    const k = this.lastK;
    const old = this.current(stored, k);
    if (!old) return;
    count(this.live, stored, old, -1);
    this.totalsDirty = true;
    return this.write({ k, stored, value: undefined, record: undefined });
  }

  *versions(range?: TokenRange): IterableIterator<EngineVersion> {
    for (const [key, record, t] of this.entries(range)) yield [key, versionOf(record), t];
  }

  /**
   * Walks `range` a page at a time, each page read in one short read transaction, so an
   * iterator kept open (a SCAN cursor) pins no old snapshot of the database. Writes not yet
   * in LMDB are merged in: they replace what the page read for their keys, and keys only
   * they hold are yielded in their place in key order.
   */
  *entries(range?: TokenRange): IterableIterator<EngineEntry> {
    if (range && range.end <= range.start) return;
    let start = range ? tokenBytes(range.start) : undefined;
    const end = range && range.end < TOKEN_SPACE ? tokenBytes(range.end) : undefined;
    let exclusiveStart = false;
    for (;;) {
      if (this.closing) return;
      const page = [...this.db.getRange({ start, end, exclusiveStart, limit: PAGE })];
      const last = page.length === PAGE ? page[PAGE - 1]?.key : undefined;
      // The pending writes in the stretch of keys this page covers: up to its last key if
      // it is full, else to the end of the range.
      const waiting = this.pending.within(
        start?.toString('latin1'),
        exclusiveStart,
        (last ?? end)?.toString('latin1'),
        last !== undefined,
      );
      let next = 0;
      for (const { key: stored, value } of page) {
        let record: StoredRecord | undefined;
        if (waiting.length > next) {
          const k = stored.toString('latin1');
          for (; next < waiting.length && (waiting[next] as Pending).k < k; next++)
            yield* pendingEntry(waiting[next] as Pending);
          const mine = waiting[next];
          if (mine?.k === k) {
            next++;
            if (!mine.record) continue;
            record = mine.record;
          }
        }
        const decoded = decode(value, stored);
        yield [decoded.key, record ?? decoded.record, stored.readUIntBE(0, TOKEN_BYTES)];
      }
      for (; next < waiting.length; next++) yield* pendingEntry(waiting[next] as Pending);
      if (last === undefined) return;
      start = last;
      exclusiveStart = true;
    }
  }

  /**
   * Writes a consistent copy of the database, as of now, into the directory `path`
   * (created if missing; it must hold no database yet). Writes go on meanwhile: the copy is
   * read from one snapshot, taken once every write acknowledged before the call is in it.
   */
  async backup(path: string): Promise<void> {
    this.checkOpen();
    mkdirSync(path, { recursive: true });
    if (existsSync(join(path, 'data.mdb')))
      throw new NodeError(`${path} already holds a database: back up into a new directory`);
    await this.applyPending();
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
      await this.applyPending().catch(() => undefined);
      clearTimeout(this.applyTimer);
      await this.root.committed;
      if (this.fsync === 'periodic') {
        this.unflushed = true;
        await this.flush();
      }
      await this.root.flushed;
      // LMDB holds every write on disk now, unless applying failed: then the log keeps them.
      await this.log?.close(this.pending.size === 0);
      this.dbClosed = true;
      await this.root.close();
      this.pending.clear();
    })();
    return this.closing;
  }

  /** Deletes the log at `dir` once LMDB has synced what was replayed from it. */
  private dropLog(dir: string): void {
    this.unflushed = true;
    void this.flush()
      .then(() => rmSync(dir, { recursive: true, force: true }))
      // Kept: replayed again at the next open, which changes nothing.
      .catch(() => undefined);
  }

  /**
   * Where the node's hints are kept, so a restart does not lose writes it promised to
   * deliver. Hint writes join the next transaction; nobody waits for them (a hint lost to a
   * power cut is repaired by anti-entropy).
   */
  hintJournal(): HintJournal {
    return hintJournalIn(this.hints, () => this.mayWrite());
  }

  /**
   * Where the node's unsynced ranges are kept, so a restart in the middle of a join (or
   * while the previous owners of a gained range are away) does not forget whom to sync
   * them from. Saves join the next transaction; nobody waits for them.
   */
  syncProgressJournal(): SyncProgressJournal {
    return syncProgressJournalIn(this.meta, () => this.mayWrite());
  }

  /** Whether a journal may still write (not once closing); if so, a flush is due. */
  private mayWrite(): boolean {
    if (this.closing) return false;
    this.unflushed = true;
    return true;
  }

  /**
   * Where `key` is stored (its token, then the key), and as a string in `lastK`. A command
   * asks about its key several times in a row (its token, its version, its write): the
   * last answer is kept, so the key is hashed once.
   */
  private where(key: Buffer): Buffer {
    if (this.lastKey?.equals(key)) return this.lastStored;
    // A copy: the key may be a view into network input, reused once the request is done.
    this.lastKey = Buffer.from(key);
    this.lastStored = storedKey(key);
    this.lastK = this.lastStored.toString('latin1');
    return this.lastStored;
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
   * Makes a write visible to reads at once; resolves once it is durable (in the log, under
   * `--fsync always`) or, without a log, committed.
   */
  private write(mine: Pending): Promise<void> {
    this.pending.set(mine);
    this.unflushed = true;
    if (!this.log) return this.commit(mine);
    const logged = this.log.append(mine.stored, mine.value);
    if (this.pending.bytes < this.maxPendingBytes) {
      this.scheduleApply(this.pending.size >= APPLY_ENTRIES ? 0 : APPLY_INTERVAL_MS);
      return logged;
    }
    // LMDB is behind by more than the bound: the write waits for it too, which holds the
    // writer (and, through admission control, its connection) until LMDB catches up.
    return Promise.all([logged, this.applyPending()]).then(() => undefined);
  }

  /** Without a log: commits the write in this turn's transaction. */
  private async commit(mine: Pending): Promise<void> {
    try {
      await (mine.value === undefined
        ? this.db.remove(mine.stored)
        : this.db.put(mine.stored, mine.value));
    } finally {
      this.pending.settle(mine);
    }
  }

  /** Applies what the log holds to LMDB in `ms` (sooner if already due). */
  private scheduleApply(ms: number): void {
    if (this.applying) return;
    if (this.applyTimer) {
      if (ms > 0) return;
      clearTimeout(this.applyTimer);
    }
    this.applyTimer = setTimeout(() => {
      this.applyTimer = undefined;
      void this.apply().catch(() => undefined);
    }, ms);
  }

  /**
   * Waits for the application under way, then applies every write pending by then:
   * resolves once LMDB holds them, or rejects.
   */
  private async applyPending(): Promise<void> {
    await this.applying?.catch(() => undefined);
    await this.apply();
  }

  /**
   * One application: every pending write in one LMDB transaction with the totals of what
   * LMDB then holds. Once committed, reads find them in LMDB; once synced, the log segments
   * they covered are deleted.
   */
  private apply(): Promise<void> {
    if (this.applying) return this.applying;
    const log = this.log;
    if (!log || this.pending.size === 0 || this.dbClosed) return Promise.resolve();
    clearTimeout(this.applyTimer);
    this.applyTimer = undefined;
    const batch = [...this.pending.values()];
    // Every write in the older segments is in this batch or was in an earlier one.
    const covered = log.retirable();
    const before = { ...this.stored };
    // lmdb-js gives the writes of one transaction one promise: the set is small.
    const written = new Set<Promise<boolean>>();
    for (const write of batch) {
      const old = this.db.getBinaryFast(write.stored);
      if (old) count(this.stored, write.stored, old, -1);
      if (write.value) {
        count(this.stored, write.stored, write.value, 1);
        written.add(this.db.put(write.stored, write.value));
      } else if (old) written.add(this.db.remove(write.stored));
    }
    this.totalsDirty = true;
    const totals = this.saveTotals();
    if (totals) written.add(totals);
    const last = totals as (Promise<boolean> & { flushed?: Promise<boolean> }) | undefined;
    this.applying = (async () => {
      try {
        await Promise.all(written);
      } catch (err) {
        // Nothing of the batch is in LMDB: its writes stay pending and in the log, and the
        // next application tries them again.
        Object.assign(this.stored, before);
        this.applying = undefined;
        if (!this.closing) this.scheduleApply(APPLY_INTERVAL_MS);
        throw err;
      }
      this.applying = undefined;
      for (const write of batch) this.pending.settle(write);
      if (this.pending.size > 0 && !this.closing)
        this.scheduleApply(this.pending.size >= APPLY_ENTRIES ? 0 : APPLY_INTERVAL_MS);
      // Once LMDB has synced them, the log need not keep them (a failed sync or deletion
      // keeps the segments, replayed in vain after a crash: harmless).
      void last?.flushed
        ?.then(() => this.dbClosed || log.retire(covered))
        .catch(() => undefined);
    })();
    return this.applying;
  }

  /**
   * Applies what the log holds beyond LMDB's state (after a crash: the writes not yet
   * applied, or applied and not yet synced), in one transaction with the totals. LMDB holds
   * the writes of the log up to some point, and entries replay in the order they were
   * written, so the result is the state of the last write logged.
   */
  private replay({ entries }: LogRecovery): void {
    if (entries.length === 0) return;
    this.root.transactionSync(() => {
      for (const { key: stored, value } of entries) {
        const old = this.db.getBinary(stored);
        if (old) count(this.stored, stored, old, -1);
        if (value === undefined) {
          if (old) this.db.removeSync(stored);
          continue;
        }
        count(this.stored, stored, value, 1);
        this.db.putSync(stored, value);
      }
      this.totalsDirty = false;
      this.meta.putSync(TOTALS_KEY, totalsBytes(this.stored));
    });
  }

  /** Writes the stored totals if they changed (joining the batch being written). */
  private saveTotals(): Promise<boolean> | undefined {
    // Closing waits for the batches under way, whose totals must still be written.
    if (!this.totalsDirty || this.dbClosed) return undefined;
    this.totalsDirty = false;
    const saved = this.meta.put(TOTALS_KEY, totalsBytes(this.stored));
    saved.catch(() => undefined);
    return saved;
  }
}

/** Adds (`sign` 1) or takes back (-1) a stored record's share of `totals`. */
function count(totals: Totals, stored: Buffer, value: Buffer, sign: 1 | -1): void {
  totals.records += sign;
  if (isTombstone(value)) totals.tombstones += sign;
  totals.bytes += sign * (stored.length + value.length + RECORD_OVERHEAD);
}

function totalsBytes(totals: Totals): Buffer {
  const bytes = Buffer.allocUnsafe(TOTALS_BYTES);
  bytes.writeDoubleLE(totals.records, 0);
  bytes.writeDoubleLE(totals.tombstones, 8);
  bytes.writeDoubleLE(totals.bytes, 16);
  return bytes;
}

/** A pending write as iteration yields it (nothing for a removal). */
function* pendingEntry(write: Pending): IterableIterator<EngineEntry> {
  if (!write.record || !write.value) return;
  yield [
    decode(write.value, write.stored).key,
    write.record,
    write.stored.readUIntBE(0, TOKEN_BYTES),
  ];
}
