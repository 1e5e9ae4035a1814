import { Ring } from '@kv/ring';

/**
 * A ring of `members` as the placement specs use it: three replicas, and few vnodes (16 per
 * member) so that every member owns some ranges of a few hundred keys yet the ring is
 * quick to build.
 */
export function ringOf(members: readonly string[]): Ring {
  return new Ring(members, { replicationFactor: 3, vnodesPerWeight: 16 });
}
