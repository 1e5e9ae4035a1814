import { QuorumCounter } from './quorum';
import type { StoredRecord } from './record';
import { acknowledges, type ApplyResult } from './replication';

/**
 * One round of a write: the replicas' answers to one version of a record, counted until
 * the quorum is decided. Pure: the caller feeds it answers. Answers arriving after the
 * decision are still taken in (they finish in the background) but change nothing the
 * caller has read.
 */
export class WriteRound {
  private readonly counter: QuorumCounter;
  private heldBefore = false;
  private newestStale = 0;
  private settle: ((round: WriteRound) => void) | undefined;
  private done = false;
  private firstRefusal: string | undefined;

  constructor(
    readonly record: StoredRecord,
    targets: number,
    readonly required: number,
  ) {
    this.counter = new QuorumCounter(targets, required);
  }

  /** True once the quorum is reached or can no longer be. */
  get decided(): boolean {
    return this.done;
  }

  /** True if the quorum was reached. */
  get reached(): boolean {
    return this.counter.outcome === 'reached';
  }

  /** Acknowledgements so far. */
  get acknowledged(): number {
    return this.counter.acknowledged;
  }

  /** True if an acknowledging replica held a live value for the key before. */
  get existed(): boolean {
    return this.heldBefore;
  }

  /** The newest timestamp a replica holding a newer version reported; 0 for none. */
  get staleTs(): number {
    return this.newestStale;
  }

  /** A replica's answer: an acknowledgement, or a report of the newer version it holds. */
  answered(result: ApplyResult): void {
    if (acknowledges(result, this.record)) {
      this.counter.ack();
      if (result.existed) this.heldBefore = true;
    } else {
      this.counter.fail();
      if (result.ts > this.newestStale) this.newestStale = result.ts;
    }
    this.check();
  }

  /**
   * A replica that refused (`refusal`: which, and why) or could not be reached. The first
   * refusal is kept for the answer to a write that fails.
   */
  failed(refusal?: string): void {
    this.firstRefusal ??= refusal;
    this.counter.fail();
    this.check();
  }

  /** The first refusal {@link failed} was told of, if any. */
  get refusal(): string | undefined {
    return this.firstRefusal;
  }

  /** Resolves with this round once it is decided. */
  whenDecided(): Promise<WriteRound> {
    return this.done ? Promise.resolve(this) : new Promise((resolve) => (this.settle = resolve));
  }

  private check(): void {
    // Decided, and every replica that will answer quickly has: the caller learns of
    // stale replicas seen so far; the rest finish in the background.
    if (this.done || this.counter.outcome === undefined) return;
    this.done = true;
    this.settle?.(this);
  }
}
