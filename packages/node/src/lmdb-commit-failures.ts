import { ErrorCode, ReplyError } from '@kv/protocol';

/**
 * What lmdb-js rejects a write with when its transaction fails to commit (a full disk, an
 * I/O error): an error whose `commitError` is a promise rejected with the cause.
 */
export type CommitFailure = Error & { readonly commitError: PromiseLike<unknown> };

/** How long {@link commitFailureCause} waits for lmdb-js to say why a commit failed. */
const CAUSE_WAIT_MS = 1000;

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
 * cause's promise is handled here, so its rejection is never reported as unhandled.
 * lmdb-js rejects the writes of a failed transaction as soon as it sees the failure (on a
 * later write, or another transaction's end) and the cause only once its writer thread
 * reports back, usually within the same callback but not always: this waits for it, up to
 * a second (then `err` stands for it).
 */
export function commitFailureCause(err: unknown): Promise<Error> {
  const failure = err instanceof Error ? err : new Error(String(err));
  if (!isCommitFailure(failure)) return Promise.resolve(failure);
  let timer: NodeJS.Timeout | undefined;
  const cause = Promise.resolve(failure.commitError).then(
    () => failure,
    (cause: unknown) => (cause instanceof Error ? cause : new Error(String(cause))),
  );
  const late = new Promise<Error>((resolve) => {
    timer = setTimeout(resolve, CAUSE_WAIT_MS, failure);
    timer.unref();
  });
  return Promise.race([cause, late]).finally(() => clearTimeout(timer));
}

/**
 * Tells its listener once when commits begin to fail (with the cause) and once when one
 * succeeds again (with `undefined`), however many fail in between. A failure is known at
 * once, its cause a moment later: a success meanwhile cancels the report, so what was
 * said last is always the state now.
 */
export class CommitTrouble {
  private troubled = false;
  /** Whether the listener was told of the failure under way. */
  private told = false;
  private generation = 0;
  constructor(private readonly tell: (cause: Error | undefined) => void = () => undefined) {}

  /** A commit failed; `cause` says why once known. */
  failed(cause: Promise<Error>): void {
    if (this.troubled) return;
    this.troubled = true;
    const generation = ++this.generation;
    void cause.then((why) => {
      if (generation !== this.generation) return;
      this.told = true;
      this.tell(why);
    });
  }

  /**
   * Whether the listener was last told of a failure (and not yet of a success): what the
   * node's log last said, read by its `kv_storage_commits_failing` gauge.
   */
  get reported(): boolean {
    return this.told;
  }

  /** A commit succeeded. */
  succeeded(): void {
    if (!this.troubled) return;
    this.troubled = false;
    this.generation++;
    if (this.told) this.tell(undefined);
    this.told = false;
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
 * Node's `--unhandled-rejections` mode for this process (`throw` unless given): the command
 * line's over `NODE_OPTIONS`'s, as Node takes them.
 */
function unhandledRejectionsMode(): string {
  const flags = [...(process.env['NODE_OPTIONS'] ?? '').split(/\s+/), ...process.execArgv];
  let mode = 'throw';
  for (let i = 0; i < flags.length; i++) {
    const flag = flags[i] as string;
    if (flag.startsWith('--unhandled-rejections=')) mode = flag.slice(flag.indexOf('=') + 1);
    else if (flag === '--unhandled-rejections' && flags[i + 1]) mode = flags[++i] as string;
  }
  return mode;
}

/**
 * Keeps lmdb-js's own promises from ending the process when a commit fails. lmdb-js makes
 * a promise for each transaction it begins, some of which nobody can reach (one begun for
 * the next batch of writes, for instance); when that transaction fails to commit, the
 * promise is rejected with nobody to handle it, and Node's default for an unhandled
 * rejection is to end the process. The engine handles every failure it can reach (the
 * write-ahead log keeps what LMDB did not take; see LogApplier), so these rejections are
 * dropped here. Any other unhandled rejection is left to the process's other listeners if it
 * has some, else treated as Node's `--unhandled-rejections` mode says (by default it ends
 * the process); a promise dropped here that is handled later draws no warning.
 *
 * Under `--unhandled-rejections=strict` Node ends the process before any listener hears of
 * a rejection, lmdb-js's included: that mode cannot be used with an LMDB engine.
 *
 * Installed by `kv-node`; a program that runs an LMDB engine in its own process installs it
 * (or its own handler) the same way. Returns what removes it.
 */
export function survivePendingCommitFailures(target: NodeJS.Process = process): () => void {
  const mode = unhandledRejectionsMode();
  const dropped = new WeakSet<Promise<unknown>>();
  const listener = (reason: unknown, promise: Promise<unknown>): void => {
    if (isCommitFailure(reason)) {
      dropped.add(promise);
      void commitFailureCause(reason);
      return;
    }
    // With other listeners, the rejection is theirs, as it is with Node's own handling;
    // under `warn`, Node has warned already.
    if (mode === 'none' || mode === 'warn') return;
    if (target.listenerCount('unhandledRejection') > 1) return;
    if (mode === 'warn-with-error-code') {
      target.emitWarning(
        `Unhandled promise rejection: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`,
        'UnhandledPromiseRejectionWarning',
      );
      target.exitCode = 1;
      return;
    }
    throw reason;
  };
  const handledLate = (promise: Promise<unknown>): void => {
    if (dropped.has(promise)) return;
    target.emitWarning(
      'Promise rejection was handled asynchronously',
      'PromiseRejectionHandledWarning',
    );
  };
  target.on('unhandledRejection', listener);
  target.on('rejectionHandled', handledLate);
  return () => {
    target.off('unhandledRejection', listener);
    target.off('rejectionHandled', handledLate);
  };
}
