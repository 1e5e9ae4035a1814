import { token } from '@kv/ring';
import { Digest, bucketOf } from './digest';
import type { Placement } from './placement';
import type { Store } from './store';
import { MAX_KEYS_PER_REPLY, forEachRecord, type KeyVersion } from './sync-protocol';

/** True if `a` and `b` both own the key with token `t`. */
function coOwned(placement: Placement, t: number, a: string, b: string): boolean {
  const owners = placement.ownersOfToken(t);
  return owners.includes(a) && owners.includes(b);
}

/**
 * The digest of this node's records that `peer` should also hold: those whose owners
 * include both. Both sides compute it over the same ring, so equal digests mean equal data.
 */
export async function coOwnedDigest(
  store: Store,
  placement: Placement,
  self: string,
  peer: string,
): Promise<Digest> {
  const digest = new Digest();
  await forEachRecord(store.engine, (key, record) => {
    const t = token(key);
    if (coOwned(placement, t, self, peer)) digest.add(t, key, record);
  });
  return digest;
}

/**
 * Digests for several peers in one pass over the store (each key hashed once).
 */
export async function coOwnedDigests(
  store: Store,
  placement: Placement,
  self: string,
  peers: readonly string[],
): Promise<Map<string, Digest>> {
  const digests = new Map(peers.map((p) => [p, new Digest()]));
  await forEachRecord(store.engine, (key, record) => {
    const t = token(key);
    const owners = placement.ownersOfToken(t);
    if (!owners.includes(self)) return;
    for (const owner of owners) digests.get(owner)?.add(t, key, record);
  });
  return digests;
}

/**
 * Key and version of this node's records co-owned with `peer` in the buckets `wanted`
 * accepts, ascending by bucket, cut after the bucket that reaches `max` entries.
 *
 * @returns the entries and the first bucket left out (-1 when none was)
 */
export async function coOwnedKeys(
  store: Store,
  placement: Placement,
  self: string,
  peer: string,
  wanted: (bucket: number) => boolean,
  max = MAX_KEYS_PER_REPLY,
): Promise<{ next: number; entries: KeyVersion[] }> {
  const byBucket = new Map<number, KeyVersion[]>();
  await forEachRecord(store.engine, (key, record) => {
    const t = token(key);
    const bucket = bucketOf(t);
    if (!wanted(bucket) || !coOwned(placement, t, self, peer)) return;
    let list = byBucket.get(bucket);
    if (!list) byBucket.set(bucket, (list = []));
    list.push({ key, ts: record.ts, origin: record.origin });
  });
  const buckets = [...byBucket.keys()].sort((a, b) => a - b);
  const entries: KeyVersion[] = [];
  for (let i = 0; i < buckets.length; i++) {
    if (entries.length >= max) return { next: buckets[i] as number, entries };
    entries.push(...(byBucket.get(buckets[i] as number) as KeyVersion[]));
  }
  return { next: -1, entries };
}
