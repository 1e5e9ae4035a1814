import type { TokenRange, RingEpoch } from '@kv/ring';
import type { Digest } from './digest';
import type { NodeMetrics } from './metrics';
import type { PeerClient } from './peer-client';
import { compareVersions, sizeOf, type StoredRecord } from './record';
import { FutureVersionError, type Store } from './store';
import { MAX_KEYS_PER_REQUEST } from './sync-protocol';
import type { Throttle } from './throttle';

/** Options of {@link Syncer}. */
export interface SyncerOptions {
  readonly selfId: string;
  readonly store: Store;
  /** Peers over connections for sync traffic, apart from replication so bulk replies never delay it. */
  readonly peers: PeerClient;
  readonly throttle: Throttle;
  /** Where records moved are counted. */
  readonly metrics: NodeMetrics;
}

/** Most SYNC_HINTS requests to one peer in a round; a longer backlog waits for the next. */
const HINT_REQUESTS = 8;

/** A record this node holds but should hand to its owners. */
interface Handoff {
  readonly key: Buffer;
  readonly record: StoredRecord;
  readonly owners: readonly string[];
  /** Drop it here once every owner has it (this node no longer serves it). */
  readonly drop: boolean;
}

/**
 * Moves records between co-owners. `pull` fetches from a peer what this node lacks,
 * comparing digests first so data both hold costs only digests; `handOff` pushes records
 * this node should no longer hold to their owners and drops them once every owner has
 * confirmed it holds that version or a newer one.
 */
export class Syncer {
  constructor(private readonly options: SyncerOptions) {}

  /**
   * `peer` left the ring: a request still waiting on it (one sent into a partition, which
   * TCP retransmits further and further apart) fails now rather than hold a round.
   */
  forget(peer: string): void {
    this.options.peers.reset(peer);
  }

  /**
   * Pulls from `peer` every record co-owned with it that this node lacks or holds in an
   * older version. `mine` is this node's co-owned digest for the peer.
   *
   * @returns how many records were stored
   * @throws when the peer cannot be reached or is at another epoch
   */
  async pull(peer: string, placement: RingEpoch, mine: Digest): Promise<number> {
    const { selfId, peers } = this.options;
    const theirs = await peers.digest(peer, selfId, placement.epoch);
    let buckets = mine.differingBuckets(theirs);
    let stored = 0;
    while (buckets.length > 0) {
      const { next, entries } = await peers.keys(peer, selfId, placement.epoch, buckets);
      const wanted = entries
        .filter((e) => {
          const held = this.options.store.read(e.key);
          return held === undefined || compareVersions(e, held) > 0;
        })
        .map((e) => e.key);
      for (let i = 0; i < wanted.length; i += MAX_KEYS_PER_REQUEST)
        stored += await this.fetch(peer, wanted.slice(i, i + MAX_KEYS_PER_REQUEST));
      buckets = next < 0 ? [] : buckets.filter((b) => b >= next);
    }
    return stored;
  }

  /**
   * Has `peer` deliver the writes it keeps for this node (hinted handoff), so that a round
   * completes only once the writes this node missed while unreachable are here too.
   * @throws when the peer cannot be reached, or still keeps some after a few requests
   */
  async collectHints(peer: string): Promise<void> {
    const { selfId, peers } = this.options;
    let left = await peers.hints(peer, selfId);
    for (let i = 1; left > 0 && i < HINT_REQUESTS; i++) left = await peers.hints(peer, selfId);
    if (left > 0) throw new Error(`${peer} still keeps ${left} write(s) for this node`);
  }

  private async fetch(peer: string, keys: Buffer[]): Promise<number> {
    const records = await this.options.peers.get(peer, keys);
    let bytes = 0;
    let stored = 0;
    // Every record of the batch is applied before any is awaited, so a durable engine
    // commits them together: one sync for the batch, not one per record.
    const pending: Promise<boolean>[] = [];
    for (let i = 0; i < keys.length; i++) {
      const record = records[i];
      if (!record) continue;
      const key = keys[i] as Buffer;
      bytes += sizeOf(key, record);
      try {
        const result = this.options.store.apply(key, record);
        if (result instanceof Promise) pending.push(result.then((r) => r.applied));
        else if (result.applied) stored++;
      } catch (err) {
        // A version from a clock out of bounds is left where it is (the store counted it);
        // the rest of the round goes on.
        if (!(err instanceof FutureVersionError)) throw err;
      }
    }
    for (const applied of await Promise.all(pending)) if (applied) stored++;
    // A range counts as synced only once what it brought would survive a crash.
    await this.options.store.durable();
    this.options.metrics.counters.recordsReceived.inc(stored);
    this.options.metrics.counters.bytesReceived.inc(bytes);
    await this.options.throttle.take(bytes);
    return stored;
  }

  /**
   * Hands off the records this node holds outside its target ranges: pushes each to the
   * owners that lack it, and drops it here once all of them hold it, unless this node still
   * serves reads for it (a leaving node keeps its copies until it has left).
   *
   * @param leaving - also hand off what this node still serves (it is leaving)
   * @returns how many records could not be handed off yet (an owner was unreachable)
   */
  async handOff(placement: RingEpoch, leaving: boolean): Promise<number> {
    const { selfId, store } = this.options;
    let batch: Handoff[] = [];
    let unconfirmed = 0;
    const candidates: Omit<Handoff, 'record'>[] = [];
    const visit = (key: Buffer, _version: unknown, t: number): void => {
      const targetOwners = placement.targetOwnersOfToken(t);
      if (targetOwners.includes(selfId)) return;
      const serving = placement.readOwnersOfToken(t).includes(selfId);
      if (serving && !leaving) return;
      // With no owner left (the last node leaving) there is nobody to hand to.
      if (targetOwners.length === 0) return;
      candidates.push({ key, owners: targetOwners, drop: !serving });
    };
    for (const range of this.rangesNotTargeted(placement)) await store.forEachVersion(visit, range);
    for (const candidate of candidates) {
      const record = store.read(candidate.key);
      if (!record) continue;
      batch.push({ ...candidate, record });
      if (batch.length >= MAX_KEYS_PER_REQUEST) {
        unconfirmed += await this.flush(batch);
        batch = [];
      }
    }
    if (batch.length > 0) unconfirmed += await this.flush(batch);
    return unconfirmed;
  }

  /**
   * The token ranges this node does not own in the target ring: the only ones a hand-off
   * reads. The whole space (one undefined range) when the ring's own preference lists are
   * not the ones placement uses (a replication factor set on this node).
   */
  private rangesNotTargeted(placement: RingEpoch): (TokenRange | undefined)[] {
    const { target } = placement;
    if (target.size === 0 || target.replicationFactor !== placement.replicationFactor)
      return [undefined];
    return target.ranges().filter((r) => !r.owners.includes(this.options.selfId));
  }

  /** Pushes a batch to its owners; drops what every owner confirmed. Returns the unconfirmed count. */
  private async flush(batch: readonly Handoff[]): Promise<number> {
    const confirmed = new Map<Handoff, number>();
    const byOwner = new Map<string, Handoff[]>();
    for (const h of batch) {
      confirmed.set(h, 0);
      for (const owner of h.owners) {
        let list = byOwner.get(owner);
        if (!list) byOwner.set(owner, (list = []));
        list.push(h);
      }
    }
    await Promise.all(
      [...byOwner].map(async ([owner, items]) => {
        try {
          for (const h of await this.pushTo(owner, items))
            confirmed.set(h, (confirmed.get(h) as number) + 1);
        } catch {
          // Unreachable owner: these stay here and are tried again on the next pass.
        }
      }),
    );
    let unconfirmed = 0;
    const removals: Promise<void>[] = [];
    for (const [h, count] of confirmed) {
      if (count < h.owners.length) {
        unconfirmed++;
        continue;
      }
      const current = this.options.store.read(h.key);
      // A newer write may have arrived meanwhile: only the version confirmed goes.
      if (h.drop && current && compareVersions(current, h.record) === 0) {
        const removed = this.options.store.remove(h.key);
        if (removed) removals.push(removed);
        this.options.metrics.counters.recordsDropped.inc();
      }
    }
    await Promise.all(removals);
    await this.options.store.durable();
    return unconfirmed;
  }

  /** Sends `owner` the records it lacks; returns those it now holds (or holds newer). */
  private async pushTo(owner: string, items: readonly Handoff[]): Promise<Handoff[]> {
    const { peers, metrics, throttle } = this.options;
    const versions = await peers.versions(
      owner,
      items.map((h) => h.key),
    );
    const held: Handoff[] = [];
    const pushes: Promise<void>[] = [];
    let bytes = 0;
    items.forEach((h, i) => {
      const version = versions[i];
      if (version && compareVersions(version, h.record) >= 0) {
        held.push(h);
        return;
      }
      bytes += sizeOf(h.key, h.record);
      pushes.push(
        peers.replicate(owner, h.key, h.record).then(() => {
          metrics.counters.recordsSent.inc();
          held.push(h);
        }),
      );
    });
    await Promise.all(pushes);
    metrics.counters.bytesSent.inc(bytes);
    await throttle.take(bytes);
    return held;
  }
}
