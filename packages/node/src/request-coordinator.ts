import { ReplyError, type ConnectionPool } from '@kv/protocol';
import { unavailable, wrongArgs } from './errors';
import type { HintStore } from './hints';
import type { HybridLogicalClock } from './hlc';
import type { Placement } from './placement';
import { QuorumCounter } from './quorum';
import { newest, supersedes, type StoredRecord } from './record';
import {
  NodeCommand,
  acknowledges,
  decodeApplyResult,
  decodeRecord,
  replicateArgs,
  type ApplyResult,
} from './replication';
import type { Store } from './store';

/** Counters of the coordination work a node did, for INFO. */
export interface CoordinationStats {
  writes: number;
  reads: number;
  writesUnavailable: number;
  readsUnavailable: number;
  replicaFailures: number;
  readRepairs: number;
  versionRetries: number;
}

/** Options of {@link RequestCoordinator}. */
export interface RequestCoordinatorOptions {
  /** This node's id (`host:port`). */
  selfId: string;
  store: Store;
  peers: ConnectionPool;
  clock: HybridLogicalClock;
  /** The current placement, or undefined before the coordinator has been reached. */
  placement: () => Placement | undefined;
  /** Where writes a replica missed wait for it. */
  hints: HintStore;
  /** Acknowledgements a write waits for. */
  writeQuorum: number;
  /** Replicas a read consults. */
  readQuorum: number;
}

type Outcome =
  { kind: 'ack'; result: ApplyResult } | { kind: 'stale'; ts: number } | { kind: 'fail' };

/**
 * Coordinates client requests on behalf of the node that received them: computes the key's
 * preference list, sends writes to every replica in parallel and answers after the write
 * quorum, and reads from one replica (R=1) or from R replicas, repairing stale ones.
 */
export class RequestCoordinator {
  readonly stats: CoordinationStats = {
    writes: 0,
    reads: 0,
    writesUnavailable: 0,
    readsUnavailable: 0,
    replicaFailures: 0,
    readRepairs: 0,
    versionRetries: 0,
  };

  constructor(private readonly options: RequestCoordinatorOptions) {}

  private currentPlacement(): Placement {
    const placement = this.options.placement();
    if (!placement || placement.read.size === 0)
      throw unavailable('no ring yet: this node has not reached the coordinator');
    return placement;
  }

  /** Preference list of a key (primary first) in the ring reads are routed by. */
  replicasOf(key: Buffer): string[] {
    return this.currentPlacement().readReplicas(key);
  }

  /** Checks a per-request quorum against the replicas a key has. */
  private quorum(requested: number | undefined, fallback: number, what: 'write' | 'read'): number {
    const q = requested ?? fallback;
    const n = this.options.placement()?.replicationFactor ?? 1;
    if (!Number.isInteger(q) || q < 1 || q > n)
      throw wrongArgs(`${what} quorum must be between 1 and ${n}`);
    return q;
  }

  /**
   * Writes a value (null deletes) to every replica of `key`; resolves after `w`
   * acknowledgements with whether any replica held a live value before.
   * @throws ReplyError `UNAVAILABLE k of w replicas acknowledged`
   */
  write(
    key: Buffer,
    value: Buffer | null,
    expiresAt: number,
    requested?: number,
  ): { existed: boolean } | Promise<{ existed: boolean }> {
    const { replicas, pending } = this.currentPlacement().writeReplicas(key);
    const w = this.quorum(requested, this.options.writeQuorum, 'write');
    // A joining owner must get the write too, on top of the quorum of current owners
    // (counted, as owners are interchangeable for the count).
    const required = w + pending;
    this.stats.writes++;
    // The quorum never shrinks with the ring: a ring that lost members (or a node cut off
    // with a ring of its own) has fewer replicas for the key than W, and acknowledging
    // with fewer copies would let one crash lose the write. Nothing is written then, so
    // no copy is left behind to spread later.
    if (replicas.length < required) {
      this.stats.writesUnavailable++;
      throw unavailable(
        `0 of ${required} replicas acknowledged: the ring has ${replicas.length} replica(s) for this key`,
      );
    }
    if (required === 1 && replicas.length === 1 && replicas[0] === this.options.selfId) {
      // This node is the only replica: its clock has seen every version it stores, so
      // the write applies at once, without a promise when the engine is in memory.
      const record = {
        value,
        ts: this.options.clock.now(),
        origin: this.options.selfId,
        expiresAt,
      };
      const result = this.options.store.apply(key, record);
      return result instanceof Promise
        ? result.then((r) => ({ existed: r.existed }))
        : { existed: result.existed };
    }
    return this.writeToReplicas(key, value, expiresAt, replicas, required);
  }

  private async writeToReplicas(
    key: Buffer,
    value: Buffer | null,
    expiresAt: number,
    replicas: readonly string[],
    required: number,
  ): Promise<{ existed: boolean }> {
    // A replica holding a newer version than the one just made means this node's clock
    // was behind: it has now observed that version, so one more try orders after it.
    for (let attempt = 0; ; attempt++) {
      const record: StoredRecord = {
        value,
        ts: this.options.clock.now(),
        origin: this.options.selfId,
        expiresAt,
      };
      const { counter, outcomes } = await this.replicate(key, record, replicas, required);
      const staleTs = Math.max(0, ...outcomes.map((o) => (o.kind === 'stale' ? o.ts : 0)));
      if (staleTs > 0 && attempt === 0) {
        this.options.clock.observe(staleTs);
        this.stats.versionRetries++;
        continue;
      }
      if (counter.outcome === 'reached') {
        return { existed: outcomes.some((o) => o.kind === 'ack' && o.result.existed) };
      }
      this.stats.writesUnavailable++;
      throw unavailable(`${counter.acknowledged} of ${required} replicas acknowledged`);
    }
  }

  /** Sends `record` to every replica; resolves when the quorum is decided. */
  private replicate(
    key: Buffer,
    record: StoredRecord,
    replicas: readonly string[],
    required: number,
  ): Promise<{ counter: QuorumCounter; outcomes: Outcome[] }> {
    const counter = new QuorumCounter(replicas.length, required);
    const outcomes: Outcome[] = [];
    return new Promise((resolve) => {
      const settle = (outcome: Outcome): void => {
        outcomes.push(outcome);
        if (outcome.kind === 'ack') counter.ack();
        else counter.fail();
        if (outcome.kind === 'fail') this.stats.replicaFailures++;
        // Decided, and every replica that will answer quickly has: the caller learns of
        // stale replicas seen so far; the rest finish in the background.
        if (counter.outcome !== undefined) resolve({ counter, outcomes });
      };
      const answered = (result: ApplyResult): void =>
        settle(
          acknowledges(result, record) ? { kind: 'ack', result } : { kind: 'stale', ts: result.ts },
        );
      for (const id of replicas) {
        // This node's own copy is applied at once, without a round through the event loop.
        const local = id === this.options.selfId ? this.options.store.apply(key, record) : null;
        if (local !== null && !(local instanceof Promise)) {
          answered(local);
          continue;
        }
        (local ?? this.applyAt(id, key, record)).then(answered, (err: unknown) => {
          // A refusal is an answer; a replica that could not be reached gets the write later.
          if (!(err instanceof ReplyError)) this.options.hints.add(id, key, record);
          settle({ kind: 'fail' });
        });
      }
    });
  }

  /** Applies a record on replica `id`: locally when it is this node. */
  private async applyAt(id: string, key: Buffer, record: StoredRecord): Promise<ApplyResult> {
    if (id === this.options.selfId) return this.options.store.apply(key, record);
    const reply = await this.options.peers.send(id, replicateArgs(key, record));
    const result = decodeApplyResult(reply);
    this.options.clock.observe(result.ts);
    return result;
  }

  /** Reads the record of `key` from replica `id`: locally when it is this node. */
  private async fetchAt(id: string, key: Buffer): Promise<StoredRecord | undefined> {
    if (id === this.options.selfId) return this.options.store.read(key);
    const record = decodeRecord(await this.options.peers.send(id, [NodeCommand.fetch, key]));
    if (record) this.options.clock.observe(record.ts);
    return record;
  }

  /**
   * Reads the newest record of `key` among `r` replicas (tombstones and expired records
   * included; the caller decides what is live).
   * @throws ReplyError `UNAVAILABLE k of r replicas answered`
   */
  read(key: Buffer, r?: number): StoredRecord | undefined | Promise<StoredRecord | undefined> {
    const replicas = this.replicasOf(key);
    const required = this.quorum(r, this.options.readQuorum, 'read');
    this.stats.reads++;
    // R=1 on a replica: this node's own copy, answered without a promise.
    if (required === 1 && replicas.includes(this.options.selfId))
      return this.options.store.read(key);
    if (required === 1) return this.readOne(key, replicas);
    return this.readMany(key, replicas, required);
  }

  /** R=1: this node's copy if it is a replica, else the first replica that answers. */
  private async readOne(
    key: Buffer,
    replicas: readonly string[],
  ): Promise<StoredRecord | undefined> {
    const ordered = [
      ...replicas.filter((id) => this.options.peers.isAvailable(id)),
      ...replicas.filter((id) => !this.options.peers.isAvailable(id)),
    ];
    for (const id of ordered) {
      try {
        return await this.fetchAt(id, key);
      } catch (err) {
        if (err instanceof ReplyError) throw err;
        this.stats.replicaFailures++;
      }
    }
    this.stats.readsUnavailable++;
    throw unavailable(`0 of 1 replicas answered`);
  }

  /** R>1: ask every replica, answer with the newest of the first R, repair the stale. */
  private readMany(
    key: Buffer,
    replicas: readonly string[],
    required: number,
  ): Promise<StoredRecord | undefined> {
    const counter = new QuorumCounter(replicas.length, required);
    const answers = new Map<string, StoredRecord | undefined>();
    let pending = replicas.length;
    return new Promise((resolve, reject) => {
      let decided = false;
      const done = (): void => {
        if (!decided && counter.outcome !== undefined) {
          decided = true;
          if (counter.outcome === 'reached') {
            resolve(newest([...answers.values()]));
          } else {
            this.stats.readsUnavailable++;
            reject(unavailable(`${counter.acknowledged} of ${required} replicas answered`));
          }
        }
        if (--pending === 0) this.repair(key, answers);
      };
      for (const id of replicas) {
        this.fetchAt(id, key).then(
          (record) => {
            answers.set(id, record);
            counter.ack();
            done();
          },
          () => {
            this.stats.replicaFailures++;
            counter.fail();
            done();
          },
        );
      }
    });
  }

  /** Sends the newest record to every replica that answered with an older one or none. */
  private repair(key: Buffer, answers: Map<string, StoredRecord | undefined>): void {
    const best = newest([...answers.values()]);
    if (!best) return;
    for (const [id, record] of answers) {
      if (!supersedes(best, record)) continue;
      this.stats.readRepairs++;
      this.applyAt(id, key, best).catch(() => {
        this.stats.replicaFailures++;
      });
    }
  }
}
