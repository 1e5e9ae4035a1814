import { DIGEST_BUCKETS, Digest, bucketRange } from './digest';
import type { RingEpoch } from '@kv/ring';
import type { Store } from './store';
import { MAX_KEYS_PER_REPLY, type KeyVersion } from './sync-protocol';

/** Records a key listing reads between yields to the event loop. */
const YIELD_EVERY = 2000;

/** True if `a` and `b` both own the key with token `t`. */
function coOwned(placement: RingEpoch, t: number, a: string, b: string): boolean {
  const owners = placement.ownersOfToken(t);
  return owners.includes(a) && owners.includes(b);
}

/** One pass over a node's store under a placement. */
export interface DigestPass {
  /** Per other member, the digest of the records co-owned with it. */
  readonly digests: ReadonlyMap<string, Digest>;
  /** Records held outside this node's target ranges: what a hand-off would look at. */
  readonly outsideTarget: number;
}

/**
 * Digests, one per other member, of this node's records that member should also hold
 * (those whose owners include both), computed in one pass over the store. The digest for
 * a peer is the same whether this node pulls from it or answers its `SYNC_DIGEST`, so one
 * pass serves a whole round of every node: results are kept for `ttlMs` per epoch. A digest
 * that much older than the data only costs a key-list exchange or a difference found on
 * the next round; the join's final round starts after that long anyway.
 */
export class CoOwnedDigests {
  private cached: { placement: RingEpoch; at: number; pass: Promise<DigestPass> } | undefined;

  constructor(
    private readonly store: Store,
    private readonly self: string,
    private readonly ttlMs = 1000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** The digest of the records co-owned with `peer` under `placement`. */
  async for(placement: RingEpoch, peer: string): Promise<Digest> {
    return (await this.pass(placement)).digests.get(peer) ?? new Digest();
  }

  /** Digests for every other member under `placement`, and what lies outside its ranges. */
  pass(placement: RingEpoch): Promise<DigestPass> {
    const cached = this.cached;
    if (cached && cached.placement === placement && this.now() - cached.at < this.ttlMs)
      return cached.pass;
    const pass = this.compute(placement);
    this.cached = { placement, at: this.now(), pass };
    pass.catch(() => {
      if (this.cached?.pass === pass) this.cached = undefined;
    });
    return pass;
  }

  private async compute(placement: RingEpoch): Promise<DigestPass> {
    const digests = new Map(
      placement
        .members()
        .filter((id) => id !== this.self)
        .map((id) => [id, new Digest()]),
    );
    let outsideTarget = 0;
    await this.store.forEachVersion((key, version, t) => {
      if (!placement.targetOwnersOfToken(t).includes(this.self)) outsideTarget++;
      const owners = placement.ownersOfToken(t);
      if (!owners.includes(this.self)) return;
      for (const owner of owners) digests.get(owner)?.add(t, key, version);
    });
    return { digests, outsideTarget };
  }
}

/**
 * Key and version of this node's records co-owned with `peer` in the buckets `wanted`
 * accepts, ascending by bucket, cut after the bucket that reaches `max` entries. A bucket
 * is a token range, so only the buckets asked are read.
 *
 * @returns the entries and the first bucket left out (-1 when none was)
 */
export async function coOwnedKeys(
  store: Store,
  placement: RingEpoch,
  self: string,
  peer: string,
  wanted: (bucket: number) => boolean,
  max = MAX_KEYS_PER_REPLY,
): Promise<{ next: number; entries: KeyVersion[] }> {
  const entries: KeyVersion[] = [];
  let read = 0;
  for (let bucket = 0; bucket < DIGEST_BUCKETS; bucket++) {
    if (!wanted(bucket)) continue;
    if (entries.length >= max) return { next: bucket, entries };
    for (const [key, version, t] of store.versions(bucketRange(bucket))) {
      read++;
      if (coOwned(placement, t, self, peer))
        entries.push({ key, ts: version.ts, origin: version.origin });
    }
    if (read >= YIELD_EVERY) {
      read = 0;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
  return { next: -1, entries };
}
