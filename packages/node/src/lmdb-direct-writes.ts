import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Database, RootDatabase } from 'lmdb';
import { CommitFailedError, type CommitTrouble, commitFailureCause } from './lmdb-commit-failures';
import type { LmdbFlusher } from './lmdb-flusher';
import type { LogApplier } from './lmdb-log-applier';
import type { Pending, PendingWrites } from './lmdb-pending';
import { count, type Totals } from './lmdb-totals';
import { NodeError } from './errors';

/*
 * What an LMDB engine does straight on LMDB rather than through its write-ahead log: a
 * write committed in its turn's transaction (`--fsync periodic` and `never`), and a backup.
 */

/** What {@link commitDirectly} works on: the engine's records, pending writes and totals. */
export interface DirectWrites {
  readonly db: Database<Buffer, Buffer>;
  readonly pending: PendingWrites;
  /** The totals of what reads see (pending writes included). */
  readonly live: Totals;
  readonly trouble: CommitTrouble;
  /** The totals were corrected after a failed commit: they are to be saved at once. */
  totalsTakenBack(): void;
}

/**
 * Commits `mine` (already among the pending writes and counted in the totals) in this
 * turn's transaction.
 * @throws CommitFailedError (rejects) if the transaction could not be committed
 */
export async function commitDirectly(mine: Pending, target: DirectWrites): Promise<void> {
  const { db, pending, live, trouble } = target;
  let failure: { err: unknown } | undefined;
  try {
    await (mine.value === undefined ? db.remove(mine.stored) : db.put(mine.stored, mine.value));
  } catch (err) {
    failure = { err };
  }
  if (!failure) {
    pending.settle(mine);
    return trouble.succeeded();
  }
  // Nothing of the transaction is in LMDB. If this write is still what reads see of its
  // key, they see LMDB's copy from now on: the totals follow (a later write of the key
  // counted from this one, and stays counted so: its outcome decides what the key holds).
  if (pending.get(mine.k) === mine) {
    if (mine.value) count(live, mine.stored, mine.value, -1);
    const stored = db.getBinaryFast(mine.stored);
    if (stored) count(live, mine.stored, stored, 1);
    pending.settle(mine);
    // Saved at once: a transaction built while this one was under way saved totals that
    // counted it.
    target.totalsTakenBack();
  }
  const cause = commitFailureCause(failure.err);
  trouble.failed(cause);
  throw new CommitFailedError(await cause);
}

/**
 * Writes a consistent copy of the database, as of now, into the directory `path`
 * (created if missing; it must hold no database yet). Writes go on meanwhile: the copy is
 * read from one snapshot, taken once every write acknowledged before the call is in it.
 */
export async function backupInto(
  path: string,
  root: RootDatabase<Buffer, Buffer>,
  flusher: LmdbFlusher,
  applier: LogApplier | undefined,
): Promise<void> {
  mkdirSync(path, { recursive: true });
  if (existsSync(join(path, 'data.mdb')))
    throw new NodeError(`${path} already holds a database: back up into a new directory`);
  await applier?.applyPending().catch(async (err: unknown) => {
    const cause = await commitFailureCause(err);
    throw new NodeError(
      `the database cannot take the write-ahead log's writes (${cause.message}): no backup until it can`,
      { cause },
    );
  });
  await flusher.settled();
  await root.backup(path, false);
}
