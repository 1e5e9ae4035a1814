import { OverloadedError, ReplyError } from '@kv/protocol';
import { Phase, token, type RingEpoch } from '@kv/ring';
import { unavailable, wrongArgs } from './errors';
import type { HintStore } from './hints';
import type { HybridLogicalClock } from './hlc';
import type { NodeMetrics } from './metrics';
import { QuorumCounter } from './quorum';
import { newest, supersedes, type StoredRecord } from './record';
import type { Replica, Replicas } from './replica';
import { firstAnswer } from './first-answer';
import { ownsAlone } from './owns-alone';
import type { UnsyncedRanges } from './unsynced-ranges';
import type { WriteGate } from './write-gate';
import { WriteRound } from './write-round';

/** What a write answers, one shared object each: writes answered at once allocate neither. */
const EXISTED: { readonly existed: boolean } = Object.freeze({ existed: true });
const NOT_EXISTED: { readonly existed: boolean } = Object.freeze({ existed: false });

/** Options of {@link QuorumOperations}. */
export interface QuorumOperationsOptions {
  /** This node's id (`host:port`): the origin of the versions it makes. */
  selfId: string;
  /** Every replica, this node's own included, behind one interface. */
  replicas: Replicas;
  clock: HybridLogicalClock;
  /** The current placement, or undefined before the coordinator has been reached. */
  placement: () => RingEpoch | undefined;
  /** Where writes a replica missed wait for it. */
  hints: HintStore;
  /** Acknowledgements a write waits for. */
  writeQuorum: number;
  /** Replicas a read consults. */
  readQuorum: number;
  /** Where the quorum work is counted. */
  metrics: NodeMetrics;
  /** Whether this node may stamp a write now (clock in bounds, request not too old). */
  gate: WriteGate;
  /** The ranges this node owns without a synced copy yet, for the current placement. */
  unsynced: UnsyncedRanges;
  /**
   * The token of a key (see `token` of @kv/ring), possibly remembered rather than hashed.
   * @default token
   */
  tokenOf?: (key: Buffer) => number;
}

/**
 * Reads and writes a key on its replicas for the client request a node received: computes
 * the key's preference list, sends writes to every replica in parallel and answers after
 * the write quorum, and reads from one replica (R=1) or from R replicas, repairing stale
 * ones. Which replica is this node's own is not its concern: a replica that answers at
 * once (see {@link Replica}) lets a round decided by it alone answer without a promise.
 */
export class QuorumOperations {
  private readonly counters: NodeMetrics['counters'];
  private readonly tokenOf: (key: Buffer) => number;

  constructor(private readonly options: QuorumOperationsOptions) {
    this.counters = options.metrics.counters;
    this.tokenOf = options.tokenOf ?? token;
  }

  private currentPlacement(): RingEpoch {
    const placement = this.options.placement();
    if (!placement || placement.read.size === 0)
      throw unavailable('no ring yet: this node has not reached the coordinator');
    return placement;
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
   * Writes a value (null deletes) to every replica of `key`; answers after `w`
   * acknowledgements with whether any replica held a live value before.
   * @throws ReplyError `UNAVAILABLE k of w replicas acknowledged`, then the first refusal
   *   a replica answered with, if any (`(host:port refused: why)`)
   */
  write(
    key: Buffer,
    value: Buffer | null,
    expiresAt: number,
    requested?: number,
  ): { existed: boolean } | Promise<{ existed: boolean }> {
    // Found once: the placement and this node's own store both need the key's token.
    const t = this.tokenOf(key);
    const { replicas: ids, pending } = this.currentPlacement().writeReplicasOfToken(t);
    const w = this.quorum(requested, this.options.writeQuorum, 'write');
    // A joining owner must get the write too, on top of the quorum of current owners
    // (counted, as owners are interchangeable for the count).
    const required = w + pending;
    this.counters.quorumWrites.inc();
    // The quorum never shrinks with the ring: a ring that lost members (or a node cut off
    // with a ring of its own) has fewer replicas for the key than W, and acknowledging
    // with fewer copies would let one crash lose the write. Nothing is written then, so
    // no copy is left behind to spread later.
    if (ids.length < required) {
      this.counters.writesUnavailable.inc();
      throw unavailable(
        `0 of ${required} replicas acknowledged: the ring has ${ids.length} replica(s) for this key`,
      );
    }
    const first = this.replicate(key, this.version(value, expiresAt), ids, required, t);
    if (!(first instanceof Promise) && first.staleTs === 0 && first.reached)
      return first.existed ? EXISTED : NOT_EXISTED;
    return this.retryIfStale(first, key, value, expiresAt, ids, required);
  }

  /** A new version of the record, if this node may stamp one now (see {@link WriteGate}). */
  private version(value: Buffer | null, expiresAt: number): StoredRecord {
    const { gate, clock } = this.options;
    gate.beforeStamp();
    const ts = clock.now();
    // After the wall clock stepped back, the hybrid clock runs ahead of it: a stamp its own
    // store and every other would refuse. Refused before anything is sent.
    if (!clock.admits(ts)) {
      this.counters.writesFenced.inc();
      throw unavailable(
        `this node's clock is ${clock.aheadMs(ts)} ms behind the versions it already made (it stepped back): it coordinates no write until it catches up`,
      );
    }
    return { value, ts, origin: this.options.selfId, expiresAt };
  }

  /**
   * A replica holding a newer version than the one just made means this node's clock was
   * behind: it has now observed that version, so one more round orders after it.
   */
  private async retryIfStale(
    first: WriteRound | Promise<WriteRound>,
    key: Buffer,
    value: Buffer | null,
    expiresAt: number,
    ids: readonly string[],
    required: number,
  ): Promise<{ existed: boolean }> {
    let round = await first;
    if (round.staleTs > 0) {
      this.options.clock.observe(round.staleTs);
      this.counters.versionRetries.inc();
      let again: StoredRecord;
      try {
        again = this.version(value, expiresAt);
      } catch (err) {
        // Refused a second stamp: the first round's copies and hints exist all the same,
        // so the refusal waits as a failed round does.
        await this.failureWait(round.record.ts);
        throw err;
      }
      round = await this.replicate(key, again, ids, required);
    }
    return this.conclude(round);
  }

  /** Until this node's clock is twice the bound past `ts` (see {@link conclude}). */
  private async failureWait(ts: number): Promise<void> {
    const wait = this.options.gate.failureWaitMs(ts);
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }

  /**
   * The answer to a decided round. A failed write may already be stored on the replicas
   * that acknowledged it (or kept as a hint), and spread from there later: the failure is
   * reported only once every node's clock is past its stamp, so a write the client sends
   * next wins over it.
   */
  private async conclude(round: WriteRound): Promise<{ existed: boolean }> {
    if (round.reached) return { existed: round.existed };
    this.counters.writesUnavailable.inc();
    // Even with no acknowledgement the write may live on as a hint for an unreachable replica.
    await this.failureWait(round.record.ts);
    const refusal = round.refusal === undefined ? '' : ` (${round.refusal})`;
    throw unavailable(`${round.acknowledged} of ${round.required} replicas acknowledged${refusal}`);
  }

  /**
   * Sends `record` to every replica; the round once its quorum is decided, at once when
   * replicas that answer at once decide it. `t` is the key's token, when already computed.
   */
  private replicate(
    key: Buffer,
    record: StoredRecord,
    ids: readonly string[],
    required: number,
    t?: number,
  ): WriteRound | Promise<WriteRound> {
    const round = new WriteRound(record, ids.length, required);
    for (const id of ids) {
      const replica = this.options.replicas.of(id);
      const result = replica.apply(key, record, t);
      if (!(result instanceof Promise)) {
        round.answered(result);
        continue;
      }
      result.then(
        (answer) => round.answered(answer),
        (err: unknown) => {
          // A refusal is an answer; a replica that could not be reached gets the write later.
          const refused = err instanceof ReplyError;
          if (!refused)
            this.options.hints.add(
              replica.id,
              key,
              record,
              err instanceof Error ? err.message : String(err),
            );
          this.replicaFailed(err);
          round.failed(refused ? `${replica.id} refused: ${refusalReason(err)}` : undefined);
        },
      );
    }
    return round.decided ? round : round.whenDecided();
  }

  /**
   * Reads the newest record of `key` among `r` replicas (tombstones and expired records
   * included; the caller decides what is live). With R=1 one copy answers alone: this
   * node's own, at once, unless it may lack writes (a range not synced since it gained it,
   * or on its way to another owner, or a node that was fenced, cut off or paused): then
   * the first other replica that can answer alone is asked as well (see
   * {@link readUnsynced}). Other replicas are asked with FETCH's ALONE flag, all at once:
   * the first whose copy has not missed writes answers.
   * @throws ReplyError `UNAVAILABLE k of r replicas answered`
   */
  read(key: Buffer, r?: number): StoredRecord | undefined | Promise<StoredRecord | undefined> {
    const placement = this.currentPlacement();
    const t = this.tokenOf(key);
    const ids = placement.readOwnersOfToken(t);
    const required = this.quorum(r, this.options.readQuorum, 'read');
    this.counters.quorumReads.inc();
    if (required === 1) {
      const { unsynced, selfId, gate, replicas } = this.options;
      const previous = unsynced.any ? unsynced.previousOwners(t) : undefined;
      if (!ids.includes(selfId))
        return this.readRemote(key, replicas.nearestFirst(ids), placement.epoch);
      if (previous === undefined && gate.readsAlone && ownsAlone(placement, selfId, t, ids))
        return replicas.of(selfId).fetch(key);
      return this.readUnsynced(key, this.askOrder(placement, ids, previous ?? []), placement.epoch);
    }
    return this.readMany(key, this.options.replicas.nearestFirst(ids), required);
  }

  /**
   * Reads `key` for a command that writes what it read (EXPIRE, SET NX): from enough
   * replicas that the read overlaps every write acknowledged with the configured write
   * quorum, R = replicas − W + 1 (the configured R when that is more). A write acknowledged
   * before the command started is then always seen, so a command that follows it never
   * writes back an older value. The command's own `requestedW` only lowers W (a write made
   * with a smaller per-request W is seen only if this one asks as many); a larger one does
   * not shrink the read, since earlier writes were acknowledged by the configured W.
   * @throws ReplyError `UNAVAILABLE k of r replicas answered`
   */
  readForWrite(
    key: Buffer,
    requestedW?: number,
  ): StoredRecord | undefined | Promise<StoredRecord | undefined> {
    const owners = this.currentPlacement().readOwnersOfToken(this.tokenOf(key)).length;
    const w = Math.min(
      this.quorum(requestedW, this.options.writeQuorum, 'write'),
      this.options.writeQuorum,
    );
    return this.read(key, Math.max(this.options.readQuorum, owners - w + 1, 1));
  }

  /** R=1 of a key this node holds no copy of: the first replica to answer alone (all are asked). */
  private async readRemote(
    key: Buffer,
    replicas: readonly Replica[],
    epoch: number,
  ): Promise<StoredRecord | undefined> {
    const answer = await firstAnswer(key, replicas, epoch, this.failed);
    if (answer) return answer.record;
    this.counters.readsUnavailable.inc();
    throw unavailable(`0 of 1 replicas answered`);
  }

  /**
   * Who to ask for a key of a range this node has not synced: its previous owners still in
   * the ring (they hold its data), then the other read replicas, then previous owners that
   * left the ring (a node the coordinator lost contact with may still be up and hold it).
   * Reachable ones first, each group in preference order; this node is not among them.
   */
  private askOrder(
    placement: RingEpoch,
    ids: readonly string[],
    previous: readonly string[],
  ): Replica[] {
    const order: string[] = [];
    for (const id of previous) if (placement.phaseOf(id) !== Phase.OUTSIDE) order.push(id);
    for (const id of ids) if (id !== this.options.selfId && !order.includes(id)) order.push(id);
    for (const id of previous) if (!order.includes(id)) order.push(id);
    return this.options.replicas.nearestFirst(order);
  }

  /**
   * R=1 when this node's own copy may lack writes: the newer of its own copy and the first
   * answer of `others`. When none answers, its own copy alone: a read that may miss a write
   * is better than no read while every other replica is down.
   */
  private readUnsynced(
    key: Buffer,
    others: readonly Replica[],
    epoch: number,
  ): Promise<StoredRecord | undefined> {
    this.counters.unsyncedReads.inc();
    // Both copies are asked now, before the next request of a pipeline is dispatched: a
    // write the client sent after this read must not show in its answer.
    const own = this.options.replicas.of(this.options.selfId).fetch(key);
    return Promise.all([own, firstAnswer(key, others, epoch, this.failed)]).then(
      ([mine, theirs]) => (theirs === undefined ? mine : newest([mine, theirs.record])),
    );
  }

  /** R>1: ask every replica, answer with the newest of the first R, repair the stale. */
  private readMany(
    key: Buffer,
    replicas: readonly Replica[],
    required: number,
  ): Promise<StoredRecord | undefined> {
    const counter = new QuorumCounter(replicas.length, required);
    const answers = new Map<Replica, StoredRecord | undefined>();
    let pending = replicas.length;
    return new Promise((resolve, reject) => {
      let decided = false;
      const done = (): void => {
        if (!decided && counter.outcome !== undefined) {
          decided = true;
          if (counter.outcome === 'reached') {
            resolve(newest([...answers.values()]));
          } else {
            this.counters.readsUnavailable.inc();
            reject(unavailable(`${counter.acknowledged} of ${required} replicas answered`));
          }
        }
        if (--pending === 0) this.repair(key, answers);
      };
      for (const replica of replicas) {
        // Asked now, not in a later microtask: a request pipelined after this one must not
        // reach a replica first (a write after it would be read here).
        new Promise<StoredRecord | undefined>((ask) => ask(replica.fetch(key))).then(
          (record) => {
            answers.set(replica, record);
            counter.ack();
            done();
          },
          (err: unknown) => {
            this.replicaFailed(err);
            counter.fail();
            done();
          },
        );
      }
    });
  }

  /** Sends the newest record to every replica that answered with an older one or none. */
  private repair(key: Buffer, answers: Map<Replica, StoredRecord | undefined>): void {
    const best = newest([...answers.values()]);
    if (!best) return;
    for (const [replica, record] of answers) {
      if (!supersedes(best, record)) continue;
      this.counters.readRepairs.inc();
      Promise.resolve()
        .then(() => replica.apply(key, best))
        .catch((err: unknown) => this.replicaFailed(err));
    }
  }

  /** Counts a failed replica request; a busy replica's apart as well. */
  private readonly failed = (err: unknown): void => this.replicaFailed(err);

  private replicaFailed(err: unknown): void {
    this.counters.replicaFailures.inc();
    if (err instanceof OverloadedError) this.counters.replicaOverloaded.inc();
  }
}

/** A replica's refusal without its code: `UNAVAILABLE why` is `why`. */
function refusalReason(err: ReplyError): string {
  return err.message.slice(err.code.length).trim() || err.message;
}
