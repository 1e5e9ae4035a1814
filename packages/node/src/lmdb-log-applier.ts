import type { Database, RootDatabase } from 'lmdb';
import type { Pending, PendingWrites } from './lmdb-pending';
import { TOTALS_KEY, count, totalsBytes, type Totals } from './lmdb-totals';
import type { LogEntry, WriteAheadLog } from './write-ahead-log';
import { ErrorCode, ReplyError } from '@kv/protocol';
import { CommitTrouble, commitFailureCause } from './lmdb-commit-failures';

/** Writes refused (`-UNAVAILABLE`) while LMDB, failing, is too far behind the log. */
export class LogBacklogError extends ReplyError {
  constructor(cause: Error) {
    super(
      `${ErrorCode.UNAVAILABLE} writes are refused while the database is too far behind its write-ahead log: applying the log failed (${cause.message})`,
    );
    this.name = 'LogBacklogError';
  }
}

/**
 * Under `--fsync always`, how often writes already safe in the log are applied to LMDB in
 * one transaction (and one LMDB sync), unless {@link APPLY_ENTRIES} are waiting first.
 */
const APPLY_INTERVAL_MS = 50;
const APPLY_ENTRIES = 8192;
/** The longest wait before a failed application is tried again. */
const MAX_RETRY_MS = 1000;
/** The default bound of the bytes of logged writes waiting for LMDB. */
export const MAX_PENDING_BYTES = 64 * 1024 * 1024;

/** What of an LMDB engine the application of its log works on. */
export interface ApplyTarget {
  readonly db: Database<Buffer, Buffer>;
  /** The writes accepted and not yet in LMDB (logged, under a log). */
  readonly pending: PendingWrites;
  /** The totals of what LMDB holds, which each application updates. */
  readonly stored: Totals;
  /** Writes `stored` in the transaction being gathered. */
  saveTotals(): Promise<boolean> | undefined;
  /** The engine is closing: no further application is scheduled. */
  closing(): boolean;
  /** LMDB is closed: nothing more may be applied. */
  closed(): boolean;
}

/**
 * The write-ahead log of an LMDB engine under `--fsync always`, and its application to
 * LMDB: a write is acknowledged once the log has synced it; what the log holds is applied
 * to LMDB every {@link APPLY_INTERVAL_MS} in one transaction with the totals of what LMDB
 * then holds. Once committed, reads find those writes in LMDB; once synced, the log
 * segments they covered are deleted.
 */
export class LogApplier {
  /** The next application, and the one under way. */
  private timer: NodeJS.Timeout | undefined;
  private applying: Promise<void> | undefined;
  /** Why the last application failed, until one succeeds. */
  private applyFailure: Error | undefined;
  /** Applications failed in a row. */
  private failures = 0;

  /**
   * @param trouble - hears when applications begin to fail (a full disk, an I/O error), and
   *   when one succeeds again
   */
  constructor(
    readonly log: WriteAheadLog,
    private readonly target: ApplyTarget,
    private readonly maxPendingBytes = MAX_PENDING_BYTES,
    private readonly trouble = new CommitTrouble(),
  ) {}

  /**
   * Refuses a write before it is accepted: once the log has failed, or while the writes
   * waiting for LMDB are past their bound and LMDB's last application failed.
   * @throws WriteAheadLogError; LogBacklogError
   */
  admit(): void {
    const failed = this.log.failure;
    if (failed) throw failed;
    if (this.applyFailure && this.target.pending.bytes >= this.maxPendingBytes)
      throw new LogBacklogError(this.applyFailure);
  }

  /**
   * Logs a write already among the pending ones (see {@link admit}): it is durable once
   * {@link durable} resolves. Past the bound of pending bytes (LMDB behind), the write
   * waits for its application too: the promise returned resolves then, which holds its
   * writer (an unfinished reply, counted by admission control and the connection's bound
   * of pending replies) until LMDB catches up. A failed application does not fail it (it
   * is safe in the log); {@link admit} refuses the next ones while LMDB keeps failing.
   */
  write(mine: Pending): Promise<void> | undefined {
    // The frame's promise, shared by its writes, is what durable() hands out.
    void this.log.append(mine.stored, mine.value);
    const { pending } = this.target;
    if (pending.bytes < this.maxPendingBytes) {
      this.schedule(pending.size >= APPLY_ENTRIES ? 0 : APPLY_INTERVAL_MS);
      return undefined;
    }
    return this.applyPending().catch(() => undefined);
  }

  /**
   * Resolves once every write logged so far is synced in the log (undefined if it is);
   * rejects if the log failed.
   */
  durable(): Promise<void> | undefined {
    return this.log.synced();
  }

  /**
   * Waits for the application under way, then applies every write pending by then:
   * resolves once LMDB holds them, or rejects.
   */
  async applyPending(): Promise<void> {
    await this.applying?.catch(() => undefined);
    await this.apply();
  }

  /** No further application is scheduled. */
  stop(): void {
    clearTimeout(this.timer);
  }

  /**
   * Applies what the log holds to LMDB in `ms` (sooner if already due; never sooner than a
   * retry waits while applications keep failing).
   */
  private schedule(ms: number): void {
    if (this.applying) return;
    if (this.timer) {
      if (ms > 0 || this.failures > 0) return;
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.apply().catch(() => undefined);
    }, ms);
  }

  /** One application: every pending write in one LMDB transaction with the totals. */
  private apply(): Promise<void> {
    if (this.applying) return this.applying;
    const { db, pending, stored } = this.target;
    if (pending.size === 0 || this.target.closed()) return Promise.resolve();
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = [...pending.values()];
    // Every write in the older segments is in this batch or was in an earlier one.
    const covered = this.log.retirable();
    const before = { ...stored };
    // lmdb-js gives the writes of one transaction one promise: the set is small.
    const written = new Set<Promise<boolean>>();
    for (const write of batch) {
      const old = db.getBinaryFast(write.stored);
      if (old) count(stored, write.stored, old, -1);
      if (write.value) {
        count(stored, write.stored, write.value, 1);
        written.add(db.put(write.stored, write.value));
      } else if (old) written.add(db.remove(write.stored));
    }
    const totals = this.target.saveTotals();
    if (totals) written.add(totals);
    const last = totals as (Promise<boolean> & { flushed?: Promise<boolean> }) | undefined;
    this.applying = (async () => {
      try {
        await Promise.all(written);
      } catch (err) {
        // Nothing of the batch is in LMDB: its writes stay pending and in the log, and the
        // next application tries them again.
        Object.assign(stored, before);
        this.applyFailure = err as Error;
        this.applying = undefined;
        // Tried again, less often while it keeps failing (a full disk stays full a while).
        this.failures++;
        const wait = Math.min(APPLY_INTERVAL_MS * 2 ** this.failures, MAX_RETRY_MS);
        if (!this.target.closing()) this.schedule(wait);
        // lmdb-js says only that the commit failed; why (a full disk) comes a moment later.
        const cause = commitFailureCause(err);
        this.trouble.failed(cause);
        void cause.then((why) => {
          if (this.applyFailure === err) this.applyFailure = why;
        });
        throw err;
      }
      this.applying = undefined;
      this.applyFailure = undefined;
      this.failures = 0;
      this.trouble.succeeded();
      for (const write of batch) pending.settle(write);
      if (pending.size > 0 && !this.target.closing())
        this.schedule(pending.size >= APPLY_ENTRIES ? 0 : APPLY_INTERVAL_MS);
      // Once LMDB has synced them, the log need not keep them (a failed sync or deletion
      // keeps the segments, replayed in vain after a crash: harmless).
      void last?.flushed
        ?.then(() => this.target.closed() || this.log.retire(covered))
        .catch(() => undefined);
    })();
    return this.applying;
  }
}

/**
 * Applies what a log holds beyond LMDB's state (after a crash: the writes not yet applied,
 * or applied and not yet synced), in one transaction with the totals (`stored`, updated).
 * LMDB holds the writes of the log up to some point, and entries replay in the order they
 * were written, so the result is the state of the last write logged.
 */
export function replayLog(
  root: RootDatabase<Buffer, Buffer>,
  db: Database<Buffer, Buffer>,
  meta: Database<Buffer, Buffer>,
  stored: Totals,
  entries: readonly LogEntry[],
): void {
  if (entries.length === 0) return;
  root.transactionSync(() => {
    for (const { key, value } of entries) {
      const old = db.getBinary(key);
      if (old) count(stored, key, old, -1);
      if (value === undefined) {
        if (old) db.removeSync(key);
        continue;
      }
      count(stored, key, value, 1);
      db.putSync(key, value);
    }
    meta.putSync(TOTALS_KEY, totalsBytes(stored));
  });
}
