import { rmSync } from 'node:fs';
import type { TokenRange } from '@kv/ring';
import type { Database, RootDatabase } from 'lmdb';
import type { EngineEntry, EngineVersion, FsyncMode, StorageEngine } from './engine';
import type { HintJournal } from './hints';
import { EngineClosedError, NodeError } from './errors';
import type { RecordVersion, StoredRecord } from './record';
import { LastStoredKey, TOKEN_BYTES, decode, encode, versionOf } from './lmdb-records';
import { hintJournalIn, syncProgressJournalIn } from './lmdb-journals';
import { CommitTrouble, commitFailureCause } from './lmdb-commit-failures';
import { backupInto, commitDirectly, type DirectWrites } from './lmdb-direct-writes';
import { openEnvironment, openLog, type LmdbEngineOptions } from './lmdb-environment';
import { pagesOf } from './lmdb-iteration';
import { LmdbFlusher } from './lmdb-flusher';
import { LogApplier, replayLog } from './lmdb-log-applier';
import { PendingWrites, type Pending } from './lmdb-pending';
import { TOTALS_KEY, count, loadTotals, totalsBytes, type Totals } from './lmdb-totals';
import type { SyncProgressJournal } from './unsynced-ranges';
import type { LogRecovery, WriteAheadLog } from './write-ahead-log';

export { DEFAULT_FSYNC_INTERVAL_MS, type LmdbEngineOptions } from './lmdb-environment';

/**
 * A durable engine on LMDB (a memory-mapped, copy-on-write B-tree: a crash at any moment
 * leaves the last committed transaction intact, with no recovery step). Each record is
 * stored under its key's token (48 bits, big-endian) followed by the key, so a token range
 * is one cursor walk; the value is the record's version, then its value bytes.
 *
 * Under `--fsync always` a write is durable, and acknowledged, once it is in the
 * write-ahead log ({@link WriteAheadLog}), which {@link LogApplier} applies to LMDB every
 * 50 ms; opening replays what it still holds. Under `periodic` and `never` there is no log:
 * the writes of one event turn are committed together and acknowledged at commit
 * ({@link commitDirectly}).
 *
 * Until a write is in LMDB, reads of its key are answered from the pending writes, and
 * iteration merges them in key order. Counts and byte totals are kept in memory, and
 * saved with each transaction that changes them.
 */
export class LmdbEngine implements StorageEngine {
  /** Writes replayed from the write-ahead log when the engine opened (after a crash). */
  readonly replayed: number;
  private readonly pending = new PendingWrites();
  /** Where keys are stored, the last one kept (a command asks about its key several times). */
  private readonly keys = new LastStoredKey();
  /** The totals of every write accepted; `stored` those of what LMDB holds. */
  private readonly stored: Totals = { records: 0, tombstones: 0, bytes: 0 };
  /** Without a log, writes reach LMDB in the turn they are made: the same totals. */
  private readonly live: Totals;
  private closing: Promise<void> | undefined;
  /** The stored totals changed since they were last written. */
  private totalsDirty = false;
  private dbClosed = false;
  /** Syncs LMDB's commits: on its timer under `periodic`, and on demand. */
  private readonly flusher: LmdbFlusher;
  /** What a write committed without the log works on. */
  private readonly direct: DirectWrites;
  /** Hears when commits begin to fail, and when one succeeds again. */
  private readonly trouble: CommitTrouble;
  /** Under `always`: the write-ahead log, and its application to LMDB. */
  private readonly applier: LogApplier | undefined;
  /**
   * Under a log (`--fsync always`): resolves once every write accepted so far is synced in
   * it (undefined if all are), rejects if the log failed. Absent without a log: each
   * write's own promise says when it is committed, and nothing else is to be waited for
   * (a server holds no reply for an engine without it).
   */
  readonly durable: (() => Promise<void> | undefined) | undefined;
  /** Resolves if the write-ahead log fails (under `always`; see StorageEngine.failed). */
  readonly failed: Promise<Error> | undefined;

  /** The records, in a database of their own beside the hints. */
  private readonly db: Database<Buffer, Buffer>;
  private readonly hints: Database<Buffer, Buffer>;
  /** What the node keeps of its own state beside records and hints (its sync progress). */
  private readonly meta: Database<Buffer, Buffer>;

  private constructor(
    private readonly root: RootDatabase<Buffer, Buffer>,
    private readonly fsync: FsyncMode,
    fsyncIntervalMs: number,
    log: WriteAheadLog | undefined,
    recovery: LogRecovery | undefined,
    maxPendingBytes?: number,
    onTrouble?: (cause: Error | undefined) => void,
  ) {
    this.trouble = new CommitTrouble(onTrouble);
    this.flusher = new LmdbFlusher(root);
    this.db = root.openDB({ name: 'records', keyEncoding: 'binary', encoding: 'binary' });
    this.hints = root.openDB({ name: 'hints', keyEncoding: 'binary', encoding: 'binary' });
    this.meta = root.openDB({ name: 'meta', keyEncoding: 'binary', encoding: 'binary' });
    if (!loadTotals(this.meta, this.db, this.stored)) void this.saveTotalsNow();
    if (recovery) replayLog(root, this.db, this.meta, this.stored, recovery.entries);
    this.replayed = recovery?.entries.length ?? 0;
    this.live = log ? { ...this.stored } : this.stored;
    this.direct = {
      db: this.db,
      pending: this.pending,
      live: this.live,
      trouble: this.trouble,
      totalsTakenBack: () => void this.saveTotalsNow(),
    };
    this.applier =
      log &&
      new LogApplier(
        log,
        {
          db: this.db,
          pending: this.pending,
          stored: this.stored,
          saveTotals: () => this.saveTotalsNow(),
          closing: () => this.closing !== undefined,
          closed: () => this.dbClosed,
        },
        maxPendingBytes,
        this.trouble,
      );
    const applier = this.applier;
    this.durable = applier && (() => applier.durable());
    // The reason alone (the error refusing writes carries the reply's code too).
    this.failed = log?.failed.then((err) => new NodeError(err.reason, { cause: err }));
    // lmdb-js calls this as it closes the batch of an event turn: the totals join the
    // transaction of the writes that changed them.
    root.on('beforecommit', () => void this.saveTotals());
    if (fsync === 'periodic') this.flusher.start(fsyncIntervalMs);
  }

  /** Opens (or creates) the database in `options.path`. */
  static open(options: LmdbEngineOptions): LmdbEngine {
    const { db, fsync, interval } = openEnvironment(options);
    const { log, recovery, logDir } = openLog(options, fsync, db);
    let engine: LmdbEngine;
    try {
      engine = new LmdbEngine(
        db,
        fsync,
        interval,
        log,
        recovery,
        options.maxPendingBytes,
        options.onTrouble,
      );
    } catch (err) {
      // Replaying the log failed (a full disk): the environment is given up too.
      void log?.close(false).catch(() => undefined);
      void Promise.resolve(db.close()).catch(() => undefined);
      throw err;
    }
    if (!log && recovery) engine.dropLog(logDir);
    return engine;
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
    return this.applier
      ? { writes: this.pending.size, bytes: this.pending.bytes }
      : { writes: 0, bytes: 0 };
  }

  /** Whether commits fail now, as last reported to `onTrouble`. */
  get commitsFailing(): boolean {
    return this.trouble.reported;
  }

  /** The key's token, from where it is stored. */
  tokenOf(key: Buffer): number {
    return this.keys.of(key).readUIntBE(0, TOKEN_BYTES);
  }

  get(key: Buffer): StoredRecord | undefined {
    const stored = this.keys.of(key);
    const pending = this.pending.get(this.keys.k);
    if (pending) return pending.record;
    const value = this.db.getBinary(stored);
    return value === undefined ? undefined : decode(value).record;
  }

  peek(key: Buffer): RecordVersion | undefined {
    const stored = this.keys.of(key);
    const pending = this.pending.get(this.keys.k);
    if (pending) return pending.record && versionOf(pending.record);
    // Read in place: only the header is decoded (the origin copied), never the value.
    const value = this.db.getBinaryFast(stored);
    return value === undefined ? undefined : versionOf(decode(value).record);
  }

  /**
   * Under a log, the write is accepted here and durable once {@link durable} resolves
   * (past the bound of writes waiting for LMDB, it returns a promise for its application
   * too); otherwise the promise returned resolves once it is committed.
   */
  put(key: Buffer, record: StoredRecord): Promise<void> | undefined {
    this.checkOpen();
    this.applier?.admit();
    const stored = this.keys.of(key);
    const k = this.keys.k;
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
      committed: undefined,
    });
  }

  remove(key: Buffer): Promise<void> | undefined {
    this.checkOpen();
    this.applier?.admit();
    const stored = this.keys.of(key);
    const k = this.keys.k;
    const old = this.current(stored, k);
    if (!old) return;
    count(this.live, stored, old, -1);
    this.totalsDirty = true;
    return this.write({ k, stored, value: undefined, record: undefined, committed: undefined });
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
    yield* pagesOf(this.db, this.pending, range, () => this.closing !== undefined);
  }

  /**
   * Writes a consistent copy of the database, as of now, into the directory `path` (see
   * {@link backupInto}).
   */
  async backup(path: string): Promise<void> {
    this.checkOpen();
    await backupInto(path, this.root, this.flusher, this.applier);
  }

  /**
   * Syncs to disk what was committed since the last sync (under `periodic`, the timer does
   * it every interval). Resolves once it is on disk.
   */
  flush(): Promise<void> {
    return this.flusher.flush();
  }

  /** Waits for every write made so far to be durable, then closes the database. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.flusher.stop();
      await this.applier?.applyPending().catch(() => undefined);
      this.applier?.stop();
      void this.saveTotals();
      const settled = await this.flusher.settled();
      // What the transactions before a failed one committed is synced all the same.
      if (this.fsync === 'periodic') {
        this.flusher.mark();
        await this.flush().catch(commitFailureCause);
      }
      // After a failed commit lmdb-js never says its last transaction is flushed, nor
      // finishes closing (it waits for that flush): neither is waited for. The log keeps
      // whatever LMDB may not hold.
      if (settled) await this.root.flushed;
      await this.applier?.log.close(settled && this.pending.size === 0);
      this.dbClosed = true;
      const closed = Promise.resolve(this.root.close());
      if (settled) await closed;
      else void closed.catch(commitFailureCause);
      this.pending.clear();
    })();
    return this.closing;
  }

  /** Deletes the log at `dir` once LMDB has synced what was replayed from it. */
  private dropLog(dir: string): void {
    this.flusher.mark();
    void this.flush()
      .then(() => rmSync(dir, { recursive: true, force: true }))
      // Kept: replayed again at the next open, which changes nothing.
      .catch(commitFailureCause);
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
    this.flusher.mark();
    return true;
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
   * Makes a write visible to reads at once. Under a log (`--fsync always`) it is durable
   * once {@link durable} resolves (past the bound of writes waiting for LMDB, the promise
   * returned resolves once it is applied too); without one, the promise returned resolves
   * once it is committed.
   */
  private write(mine: Pending): Promise<void> | undefined {
    this.pending.set(mine);
    this.flusher.mark();
    if (this.applier) return this.applier.write(mine);
    mine.committed = this.commit(mine);
    return mine.committed;
  }

  /**
   * Without a log: the commit of the write of `key` that reads see, while it is under way
   * (see StorageEngine.committing). Under a log every reply waits for {@link durable}.
   */
  committing(key: Buffer): Promise<void> | undefined {
    if (this.applier) return undefined;
    this.keys.of(key);
    return this.pending.get(this.keys.k)?.committed;
  }

  /**
   * Without a log: commits the write in this turn's transaction.
   * @throws CommitFailedError (rejects) if the transaction could not be committed
   */
  private commit(mine: Pending): Promise<void> {
    return commitDirectly(mine, this.direct);
  }

  /** Writes the stored totals, changed or not (joining the batch being written). */
  private saveTotalsNow(): Promise<boolean> | undefined {
    this.totalsDirty = true;
    return this.saveTotals();
  }

  /** Writes the stored totals if they changed (joining the batch being written). */
  private saveTotals(): Promise<boolean> | undefined {
    // Closing waits for the batches under way, whose totals must still be written.
    if (!this.totalsDirty || this.dbClosed) return undefined;
    this.totalsDirty = false;
    const saved = this.meta.put(TOTALS_KEY, totalsBytes(this.stored));
    saved.catch((err: unknown) => {
      // Saved again with the next transaction (or when closing).
      this.totalsDirty = true;
      void commitFailureCause(err);
    });
    return saved;
  }
}
