import type { RootDatabase } from 'lmdb';
import { commitFailureCause } from './lmdb-commit-failures';

/**
 * Syncing an LMDB environment's commits to disk: on demand (`flush`), and under `--fsync
 * periodic` every interval from {@link start}. A flush syncs only if something was
 * committed since the last one ({@link mark}), and flushes run one after another.
 */
export class LmdbFlusher {
  private timer: NodeJS.Timeout | undefined;
  private unflushed = false;
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly root: RootDatabase<Buffer, Buffer>) {}

  /** Something was (or is being) committed: the next flush syncs. */
  mark(): void {
    this.unflushed = true;
  }

  /** Flushes every `intervalMs`; a failed sync is tried again at the next tick. */
  start(intervalMs: number): void {
    const tick = (): void =>
      void this.flush().catch((err: unknown) => {
        this.unflushed = true;
        void commitFailureCause(err);
      });
    this.timer = setInterval(tick, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Syncs to disk what was committed since the last sync. Resolves once it is on disk. */
  flush(): Promise<void> {
    if (this.unflushed) {
      this.unflushed = false;
      this.chain = this.chain
        .catch(() => undefined)
        .then(async () => {
          await this.settled();
          // lmdb-js syncs on a worker thread (mdb_env_sync, forced) and calls back.
          const env = this.root as unknown as { sync(done: (err?: Error) => void): void };
          await new Promise<void>((resolve, reject) =>
            env.sync((err) => (err ? reject(err) : resolve())),
          );
        });
    }
    return this.chain;
  }

  /**
   * Resolves once the transactions under way have ended: true if the last committed, false
   * if it failed (it refused its writes, or left them in the log: nothing is left to wait
   * for).
   */
  settled(): Promise<boolean> {
    return Promise.resolve(this.root.committed).then(
      () => true,
      (err: unknown) => {
        void commitFailureCause(err);
        return false;
      },
    );
  }
}
