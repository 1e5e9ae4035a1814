import { ErrorCode, ReplyError } from '@kv/protocol';
import { token, type TokenRange } from '@kv/ring';
import { join } from 'node:path';
import type { EngineEntry, EngineVersion, StorageEngine } from './engine';
import { NodeError } from './errors';
import { LMDB_SUBDIR } from './storage';
import { wallOf, type HybridLogicalClock } from './hlc';
import type { MemoryLimit } from './memory-limit';
import {
  MAX_EXPIRES_AT,
  compareVersions,
  isLive,
  type RecordVersion,
  type StoredRecord,
} from './record';
import type { ApplyResult } from './replication';

/** A version further ahead of this node's clock than the bound: nothing was stored. */
export class FutureVersionError extends ReplyError {
  constructor(clock: HybridLogicalClock, ts: number) {
    const ahead = clock.aheadMs(ts);
    super(
      `${ErrorCode.CLOCKSKEW} version ${ts} is ${Number.isFinite(ahead) ? `${ahead} ms ahead of` : 'out of range of'} this node's clock (bound ${clock.maxAheadMs} ms): not stored`,
    );
    this.name = 'FutureVersionError';
  }
}

/** A record whose expiry is not an integer from 0 to {@link MAX_EXPIRES_AT}: nothing was stored. */
export class InvalidExpiryError extends ReplyError {
  constructor(expiresAt: number) {
    super(
      `${ErrorCode.WRONGARGS} expiry ${expiresAt} is not an integer from 0 to ${MAX_EXPIRES_AT}: not stored`,
    );
    this.name = 'InvalidExpiryError';
  }
}

/**
 * A node's local data: an engine plus last-writer-wins merging, expiry and purging of
 * tombstones. Every record applied here moves the node's clock past its version, so
 * versions this node creates later order after everything it has stored. The only door to
 * the engine: nothing else in the node reaches it, so every record entering the node
 * (a client write, REPLICATE, sync, hand-off, hint, read repair) passes the same checks.
 */
export class Store {
  constructor(
    private readonly engine: StorageEngine,
    private readonly clock: HybridLogicalClock,
    private readonly now: () => number = Date.now,
    /** Told of each record refused for a version too far ahead. */
    private readonly onRefused: () => void = () => undefined,
    /** The node's memory bound: past it, records carrying a value are refused. */
    private readonly memory?: MemoryLimit,
  ) {}

  /**
   * Checks a version that reached this node from elsewhere before it is stored, served or
   * adopted by the clock.
   * @throws FutureVersionError (counted) for a timestamp further ahead of this node's clock
   *   than the bound, or not an integer up to the clock's ceiling
   */
  checkVersion(ts: number): void {
    if (this.clock.admits(ts)) return;
    this.onRefused();
    throw new FutureVersionError(this.clock, ts);
  }

  /** The token of `key`: the one kept with its record when the engine has it, else hashed. */
  tokenOf(key: Buffer): number {
    return this.engine.tokenOf?.(key) ?? token(key);
  }

  /** The record of a key, tombstones and expired records included. */
  read(key: Buffer): StoredRecord | undefined {
    return this.engine.get(key);
  }

  /**
   * The record of a key as this node hands it to another (FETCH, SYNC_GET): an expired
   * record keeps its version and expiry but travels without its value, so no node is ever
   * served a value GET would call expired; the receiver learns it is gone (a tombstone) and
   * that nothing older may come back.
   */
  forPeer(key: Buffer): StoredRecord | undefined {
    const record = this.engine.get(key);
    if (record === undefined || record.value === null || isLive(record, this.now())) return record;
    return { ...record, value: null };
  }

  /** The live value of a key, or undefined if missing, deleted or expired. */
  value(key: Buffer): Buffer | undefined {
    const record = this.engine.get(key);
    return isLive(record, this.now()) ? record.value : undefined;
  }

  /**
   * Merges a record: stores it if it is newer than the one held. The key and value may be
   * views into network input: engines copy what they keep. `keyToken` is the key's token
   * when the caller has it. Resolves once a durable engine has the change, or answers at
   * once and leaves it to {@link durable}.
   * @throws FutureVersionError for a version too far ahead (see {@link checkVersion});
   *   InvalidExpiryError; OutOfMemoryError for a newer record carrying a value while the
   *   node is past its memory bound (tombstones are always taken: they free memory)
   */
  apply(key: Buffer, record: StoredRecord, keyToken?: number): ApplyResult | Promise<ApplyResult> {
    // A version from a clock out of bounds (or a forged one) would beat every write for as
    // long as it is ahead, and drag this node's clock with it: refused, whatever brought it.
    this.checkVersion(record.ts);
    const { expiresAt } = record;
    if (!(Number.isSafeInteger(expiresAt) && expiresAt >= 0 && expiresAt <= MAX_EXPIRES_AT))
      throw new InvalidExpiryError(expiresAt);
    this.clock.observe(record.ts);
    const current = this.engine.peek(key);
    const existed =
      current !== undefined &&
      !current.deleted &&
      (current.expiresAt === 0 || current.expiresAt > this.now());
    if (current !== undefined && compareVersions(record, current) <= 0) {
      const held: ApplyResult = { applied: false, existed, ts: current.ts, origin: current.origin };
      // The version held may be a write whose commit is still under way: an answer that
      // vouches for it (the same write sent again, a hint delivered twice) waits for that
      // commit, and fails with it.
      const committing = this.engine.committing?.(key);
      return committing ? committing.then(() => held) : held;
    }
    if (record.value !== null) this.memory?.check();
    const result: ApplyResult = { applied: true, existed, ts: record.ts, origin: record.origin };
    const done = this.engine.put(key, record, keyToken);
    return done ? done.then(() => result) : result;
  }

  /**
   * Resolves once every change accepted so far would survive a crash (undefined if all
   * would already): what a reply acknowledging a change waits for, when `apply` and
   * `remove` answered at once on a durable engine (see StorageEngine.durable).
   */
  durable(): Promise<void> | undefined {
    return this.engine.durable?.();
  }

  /**
   * Resolves once the writes of `keys` whose commits are under way are committed (undefined
   * if none is; see StorageEngine.committing); rejects if one of them fails. An answer that
   * vouches for what this node holds of those keys waits for it.
   */
  committing(keys: readonly Buffer[]): Promise<void> | undefined {
    let waits: Promise<void>[] | undefined;
    for (const key of keys) {
      const commit = this.engine.committing?.(key);
      if (commit) (waits ??= []).push(commit);
    }
    return waits && Promise.all(waits).then(() => undefined);
  }

  /** Forgets a key entirely; resolves once a durable engine has the change (or see {@link durable}). */
  remove(key: Buffer): void | Promise<void> {
    return this.engine.remove(key);
  }

  /** Every record whose key's token lies in `range` (all when omitted), in token order. */
  entries(range?: TokenRange): IterableIterator<EngineEntry> {
    return this.engine.entries(range);
  }

  /** Key and version of every record in `range` (all when omitted), in token order. */
  versions(range?: TokenRange): IterableIterator<EngineVersion> {
    return this.engine.versions(range);
  }

  /**
   * Calls `visit` for every key and version in `range` (all when omitted), in token order,
   * yielding to the event loop every `batch` records so a pass over a large store does not
   * stall request serving.
   */
  async forEachVersion(
    visit: (key: Buffer, version: RecordVersion, token: number) => void,
    range?: TokenRange,
    batch = 2000,
  ): Promise<void> {
    let n = 0;
    for (const [key, version, t] of this.engine.versions(range)) {
      visit(key, version, t);
      if (++n % batch === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** Records held, tombstones included. */
  get size(): number {
    return this.engine.size;
  }

  /** Tombstones held. */
  get tombstones(): number {
    return this.engine.tombstones;
  }

  /** Bytes of keys and values held (an estimate for engines that cannot know exactly). */
  get bytes(): number {
    return this.engine.bytes;
  }

  /** Writes the engine has accepted and not yet stored in its main store (see StorageEngine). */
  /** Whether the engine cannot commit writes now (a full or failing disk). */
  get commitsFailing(): boolean {
    return this.engine.commitsFailing ?? false;
  }

  get backlog(): { readonly writes: number; readonly bytes: number } {
    return this.engine.backlog ?? { writes: 0, bytes: 0 };
  }

  /**
   * Writes a consistent copy of the records into `dir`, laid out as a data directory: a
   * node started with `--data-dir dir` comes back with them.
   * @throws NodeError when the engine keeps nothing on disk, or `dir` already holds data
   */
  async backup(dir: string): Promise<void> {
    if (!this.engine.backup)
      throw new NodeError(
        'this node keeps its records in memory (started without --data-dir): there is nothing to back up',
      );
    await this.engine.backup(join(dir, LMDB_SUBDIR));
  }

  /** Releases what the engine holds open. */
  close(): void | Promise<void> {
    return this.engine.close();
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
    let purged = 0;
    for (const key of doomed) {
      // A purge that fails to reach the disk, or that the engine refuses (its log failed,
      // or it is too far behind), is left to the next pass.
      let done: void | Promise<void>;
      try {
        done = this.engine.remove(key);
      } catch {
        break;
      }
      if (done) done.catch(() => undefined);
      purged++;
    }
    return purged;
  }
}
