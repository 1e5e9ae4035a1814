import type { StorageEngine } from './engine';
import { wallOf, type HybridLogicalClock } from './hlc';
import { compareVersions, isLive, type StoredRecord } from './record';
import type { ApplyResult } from './replication';

/**
 * A node's local data: an engine plus last-writer-wins merging, expiry and purging of
 * tombstones. Every record applied here moves the node's clock past its version, so
 * versions this node creates later order after everything it has stored.
 */
export class Store {
  constructor(
    readonly engine: StorageEngine,
    private readonly clock: HybridLogicalClock,
    private readonly now: () => number = Date.now,
  ) {}

  /** The record of a key, tombstones and expired records included. */
  read(key: Buffer): StoredRecord | undefined {
    return this.engine.get(key);
  }

  /** The live value of a key, or undefined if missing, deleted or expired. */
  value(key: Buffer): Buffer | undefined {
    const record = this.engine.get(key);
    return isLive(record, this.now()) ? record.value : undefined;
  }

  /**
   * Merges a record: stores it if it is newer than the one held. The key and value may be
   * views into network input: engines copy what they keep. Resolves once a durable engine
   * has the change.
   */
  apply(key: Buffer, record: StoredRecord): ApplyResult | Promise<ApplyResult> {
    this.clock.observe(record.ts);
    const current = this.engine.peek(key);
    const existed =
      current !== undefined &&
      !current.deleted &&
      (current.expiresAt === 0 || current.expiresAt > this.now());
    if (current !== undefined && compareVersions(record, current) <= 0) {
      return { applied: false, existed, ts: current.ts, origin: current.origin };
    }
    const result: ApplyResult = { applied: true, existed, ts: record.ts, origin: record.origin };
    const done = this.engine.put(key, record);
    return done ? done.then(() => result) : result;
  }

  /**
   * Forgets tombstones and expired records whose deletion or expiry is older than `graceMs`
   * (so a delayed older write arriving within the grace period still loses to them).
   * Returns how many were purged.
   */
  purge(graceMs: number): number {
    const cutoff = this.now() - graceMs;
    const doomed: Buffer[] = [];
    for (const [key, record] of this.engine.entries()) {
      const deletedAt = record.value === null ? wallOf(record.ts) : record.expiresAt;
      if (deletedAt !== 0 && deletedAt <= cutoff) doomed.push(key);
    }
    for (const key of doomed) void this.engine.remove(key);
    return doomed.length;
  }
}
