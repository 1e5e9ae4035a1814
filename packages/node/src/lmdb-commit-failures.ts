import { ErrorCode, ReplyError } from '@kv/protocol';

/**
 * What lmdb-js rejects a write with when its transaction fails to commit (a full disk, an
 * I/O error): an error whose `commitError` is a promise rejected with the cause.
 */
export type CommitFailure = Error & { readonly commitError: PromiseLike<unknown> };

/** Whether `reason` is lmdb-js's rejection of a write whose transaction failed to commit. */
export function isCommitFailure(reason: unknown): reason is CommitFailure {
  const commitError = (reason as { commitError?: unknown } | null)?.commitError;
  return (
    reason instanceof Error &&
    typeof (commitError as PromiseLike<unknown> | undefined)?.then === 'function'
  );
}

/**
 * The cause of a failed commit (`err` itself if it is not lmdb-js's commit failure). The
 * cause's promise is handled here, so its rejection is never reported as unhandled. lmdb-js
 * rejects it in the same callback as the writes, so it is settled by the time a write's
 * rejection is handled; if not, `err` stands for it after one turn.
 */
export function commitFailureCause(err: unknown): Promise<Error> {
  const failure = err instanceof Error ? err : new Error(String(err));
  if (!isCommitFailure(failure)) return Promise.resolve(failure);
  const cause = Promise.resolve(failure.commitError).then(
    () => failure,
    (cause: unknown) => (cause instanceof Error ? cause : new Error(String(cause))),
  );
  const turn = new Promise<Error>((resolve) => setImmediate(resolve, failure));
  return Promise.race([cause, turn]);
}

/**
 * Tells its listener once when commits begin to fail (with the cause) and once when one
 * succeeds again (with `undefined`), however many fail in between.
 */
export class CommitTrouble {
  private troubled = false;
  constructor(private readonly tell: (cause: Error | undefined) => void = () => undefined) {}

  failed(cause: Error): void {
    if (this.troubled) return;
    this.troubled = true;
    this.tell(cause);
  }

  succeeded(): void {
    if (!this.troubled) return;
    this.troubled = false;
    this.tell(undefined);
  }
}

/** A write refused because the database could not commit it (`-UNAVAILABLE`). */
export class CommitFailedError extends ReplyError {
  constructor(cause: Error) {
    super(
      `${ErrorCode.UNAVAILABLE} the database could not commit the write (${cause.message}): is its disk full?`,
    );
    this.name = 'CommitFailedError';
  }
}

/**
 * Keeps lmdb-js's own promises from crashing the process when a commit fails. lmdb-js makes
 * a promise for each transaction it begins, some of which nobody can reach (one begun for
 * the next batch of writes, for instance); when that transaction fails to commit, the
 * promise is rejected with nobody to handle it, and Node's default for an unhandled
 * rejection is to end the process. The engine handles every failure it can reach (the
 * write-ahead log keeps what LMDB did not take; see LogApplier), so these rejections are
 * dropped here; any other unhandled rejection still ends the process, as by default.
 *
 * Installed by `kv-node`; a program that runs an LMDB engine in its own process installs it
 * (or its own handler) the same way. Returns what removes it.
 */
export function survivePendingCommitFailures(target: NodeJS.Process = process): () => void {
  const listener = (reason: unknown): void => {
    if (!isCommitFailure(reason)) throw reason;
    void commitFailureCause(reason);
  };
  // Such a promise may be handled later (lmdb-js's `committed` hands out the last one):
  // only a promise whose rejection was let through can be, so nothing needs saying then.
  const handledLate = (): void => undefined;
  target.on('unhandledRejection', listener);
  target.on('rejectionHandled', handledLate);
  return () => {
    target.off('unhandledRejection', listener);
    target.off('rejectionHandled', handledLate);
  };
}
