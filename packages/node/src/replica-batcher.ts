import type { ReplyError } from '@kv/protocol';
import { sizeOf, type StoredRecord } from './record';
import {
  MAX_BATCH_BYTES,
  MAX_BATCH_RECORDS,
  type ApplyResult,
  type KeyedRecord,
} from './replication';

/** A record waiting to go to a replica, and the promise waiting for the replica's answer. */
export interface Waiting extends KeyedRecord {
  resolve(result: ApplyResult): void;
  reject(err: Error): void;
}

/** The records bound for one replica, filled during one event-loop turn. */
interface Filling {
  readonly records: Waiting[];
  bytes: number;
}

/**
 * Gathers the records sent to each replica during one event-loop turn, so they leave in one
 * request per replica (see `REPLICATE_BATCH`) instead of one each, and their answers come
 * back in one reply. A batch is sent at the end of the turn, or as soon as it holds
 * {@link MAX_BATCH_RECORDS} records or {@link MAX_BATCH_BYTES} bytes. Pure queueing: what a
 * batch becomes on the wire is the sender's concern.
 */
export class ReplicaBatcher {
  private readonly filling = new Map<string, Filling>();
  private scheduled = false;

  /**
   * @param send - sends one batch to `peer` and settles each of its records
   * @param schedule - runs the flush at the end of the turn: after the I/O callbacks of this
   *   turn of the event loop, so the records of every request read in it share a batch
   */
  constructor(
    private readonly send: (peer: string, batch: Waiting[]) => void,
    private readonly schedule: (flush: () => void) => void = setImmediate,
  ) {}

  /** Queues `record` for `peer`; resolves with the replica's answer to it. */
  add(peer: string, key: Buffer, record: StoredRecord): Promise<ApplyResult> {
    return new Promise((resolve, reject) => {
      const bytes = sizeOf(key, record);
      let batch = this.filling.get(peer);
      if (
        batch !== undefined &&
        (batch.records.length >= MAX_BATCH_RECORDS || batch.bytes + bytes > MAX_BATCH_BYTES)
      ) {
        this.filling.delete(peer);
        this.send(peer, batch.records);
        batch = undefined;
      }
      if (batch === undefined) {
        batch = { records: [], bytes: 0 };
        this.filling.set(peer, batch);
      }
      batch.records.push({ key, record, resolve, reject });
      batch.bytes += bytes;
      if (!this.scheduled) {
        this.scheduled = true;
        this.schedule(this.flush);
      }
    });
  }

  /**
   * Sends what fills for `peer` now: a request to `peer` that is not a record must not
   * overtake records queued before it (a read would miss a write issued earlier).
   */
  flushPeer(peer: string): void {
    const batch = this.filling.get(peer);
    if (batch === undefined) return;
    this.filling.delete(peer);
    this.send(peer, batch.records);
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    const batches = [...this.filling];
    this.filling.clear();
    for (const [peer, batch] of batches) this.send(peer, batch.records);
  };
}

/** Settles every record of `batch` with the answer at its index. */
export function settleAll(batch: readonly Waiting[], answers: (ApplyResult | ReplyError)[]): void {
  for (let i = 0; i < batch.length; i++) {
    const waiting = batch[i] as Waiting;
    const answer = answers[i] as ApplyResult | ReplyError;
    if (answer instanceof Error) waiting.reject(answer);
    else waiting.resolve(answer);
  }
}
