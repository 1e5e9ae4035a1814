import type { HybridLogicalClock } from './hlc';
import type { PeerClient } from './peer-client';
import type { StoredRecord } from './record';
import type { AloneAnswer, ApplyResult } from './replication';
import type { Store } from './store';

/**
 * One copy of the data, wherever it lives: quorum reads and writes address every replica
 * alike. A replica that can answer at once (this node's own store in memory) returns a
 * value rather than a promise, so a request it alone can decide needs no turn of the
 * event loop.
 */
export interface Replica {
  /** The node holding this copy (`host:port`). */
  readonly id: string;
  /** False while the replica is known to be unreachable. */
  readonly available: boolean;
  /**
   * Merges `record` (last writer wins); what the replica holds afterwards. `token`, the
   * key's token when the caller has it, saves this node's own store hashing the key again.
   */
  apply(key: Buffer, record: StoredRecord, token?: number): ApplyResult | Promise<ApplyResult>;
  /** The replica's record of `key`, tombstones and expired records included. */
  fetch(key: Buffer): StoredRecord | undefined | Promise<StoredRecord | undefined>;
  /**
   * The record, for an R=1 read, and whether its holder may answer that read alone (its
   * copy has not missed writes). This node's own standing is its caller's to judge.
   * @param epoch - the asker's ring epoch: a holder still at an older one does not answer
   *   alone (writes made at the newer epoch may not have gone to it)
   */
  fetchAlone(key: Buffer, epoch?: number): AloneAnswer | Promise<AloneAnswer>;
}

/** This node's own copy: its store. */
export class LocalReplica implements Replica {
  readonly available = true;

  constructor(
    readonly id: string,
    private readonly store: Store,
  ) {}

  apply(key: Buffer, record: StoredRecord, token?: number): ApplyResult | Promise<ApplyResult> {
    try {
      return this.store.apply(key, record, token);
    } catch (err) {
      // A refusal (memory bound) is this replica's answer, as a remote one's would be:
      // the other replicas of the round still get the write.
      return Promise.reject(err as Error);
    }
  }

  fetch(key: Buffer): StoredRecord | undefined {
    return this.store.read(key);
  }

  fetchAlone(key: Buffer): AloneAnswer {
    return { alone: true, record: this.store.read(key) };
  }
}

/**
 * Another node's copy, over the replication connections. Every version it reports moves
 * this node's clock past it, so the next version made here orders after it. A record it
 * answers with a version further ahead than the clock bound is refused like one sent
 * here: it is neither served nor repaired onto other replicas.
 */
export class RemoteReplica implements Replica {
  constructor(
    readonly id: string,
    private readonly peers: PeerClient,
    private readonly clock: HybridLogicalClock,
    private readonly store: Store,
  ) {}

  get available(): boolean {
    return this.peers.isAvailable(this.id);
  }

  async apply(key: Buffer, record: StoredRecord): Promise<ApplyResult> {
    const result = await this.peers.replicate(this.id, key, record);
    this.clock.observe(result.ts);
    return result;
  }

  async fetch(key: Buffer): Promise<StoredRecord | undefined> {
    return this.observed(await this.peers.fetch(this.id, key));
  }

  async fetchAlone(key: Buffer, epoch?: number): Promise<AloneAnswer> {
    const answer = await this.peers.fetchAlone(this.id, key, epoch);
    this.observed(answer.record);
    return answer;
  }

  /** Refuses a version too far ahead; moves this node's clock past the others. */
  private observed(record: StoredRecord | undefined): StoredRecord | undefined {
    if (record) {
      this.store.checkVersion(record.ts);
      this.clock.observe(record.ts);
    }
    return record;
  }
}

/** The replicas of a cluster as this node reaches them: itself locally, the others remotely. */
export class Replicas {
  private readonly local: LocalReplica;
  private readonly remote = new Map<string, RemoteReplica>();

  constructor(
    selfId: string,
    private readonly store: Store,
    private readonly peers: PeerClient,
    private readonly clock: HybridLogicalClock,
  ) {
    this.local = new LocalReplica(selfId, store);
  }

  /** The replica on node `id`. */
  of(id: string): Replica {
    if (id === this.local.id) return this.local;
    let replica = this.remote.get(id);
    if (!replica)
      this.remote.set(id, (replica = new RemoteReplica(id, this.peers, this.clock, this.store)));
    return replica;
  }

  /** The replicas on `ids`, nearest first: this node, then reachable ones, then the rest. */
  nearestFirst(ids: readonly string[]): Replica[] {
    const near: Replica[] = ids.includes(this.local.id) ? [this.local] : [];
    const unreachable: Replica[] = [];
    for (const id of ids) {
      if (id === this.local.id) continue;
      const replica = this.of(id);
      (replica.available ? near : unreachable).push(replica);
    }
    return unreachable.length === 0 ? near : near.concat(unreachable);
  }
}
