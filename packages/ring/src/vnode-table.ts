import { layOut, locate } from './layout';
import type { Member } from './member';
import { preferenceTable, walkOrder, type Zoning } from './preference';

/**
 * Everything a ring precomputes to answer lookups: vnode tokens and owners in typed
 * arrays, and the first `width` members of the preference order at every vnode, where
 * width = min(replication factor, member count). Immutable once built.
 */
export class VnodeTable {
  /** Member ids by member index (members sorted by id as UTF-8 bytes). */
  readonly ids: readonly string[];
  /** Vnode tokens, ascending. */
  readonly tokens: Float64Array;
  /** Member index of each vnode. */
  readonly owners: Uint32Array;
  /** Precomputed preference entries per vnode: min(replication factor, member count). */
  readonly width: number;
  /** `table[pos * width + i]`: member index of entry i of the order at vnode `pos`. */
  readonly table: Uint32Array;
  private readonly zoning: Zoning;

  constructor(members: readonly Member[], vnodesPerWeight: number, replicationFactor: number) {
    this.ids = members.map((m) => m.id);
    const { tokens, owners } = layOut(members, vnodesPerWeight);
    this.tokens = tokens;
    this.owners = owners;
    this.zoning = zoningOf(members);
    this.width = Math.min(replicationFactor, members.length);
    this.table = preferenceTable(owners, this.zoning, this.width);
  }

  /** Number of vnodes. */
  get size(): number {
    return this.tokens.length;
  }

  /** Position of the vnode owning token `t`. The ring must not be empty. */
  locate(t: number): number {
    return locate(this.tokens, t);
  }

  /** Id of the member owning the vnode at `pos`. */
  ownerId(pos: number): string {
    return this.ids[this.owners[pos] as number] as string;
  }

  /** The first `count` ids of the preference order at `pos` (fewer if the ring is smaller). */
  list(pos: number, count: number): string[] {
    const n = Math.min(count, this.ids.length);
    if (n > this.width) {
      return walkOrder(this.owners, this.zoning, this.ids.length, pos, n).map(
        (m) => this.ids[m] as string,
      );
    }
    const out = new Array<string>(n);
    const row = pos * this.width;
    for (let i = 0; i < n; i++) out[i] = this.ids[this.table[row + i] as number] as string;
    return out;
  }

  /** Whether the first `width` entries at `a` here equal those at `b` in `other`, by id. */
  sameList(a: number, other: VnodeTable, b: number): boolean {
    if (this.width !== other.width) return false;
    const rowA = a * this.width;
    const rowB = b * other.width;
    for (let i = 0; i < this.width; i++) {
      const idA = this.ids[this.table[rowA + i] as number];
      if (idA !== other.ids[other.table[rowB + i] as number]) return false;
    }
    return true;
  }
}

function zoningOf(members: readonly Member[]): Zoning {
  const indexOfZone = new Map<string, number>();
  const zoneOf = new Uint32Array(members.length);
  members.forEach((member, m) => {
    let z = indexOfZone.get(member.zone);
    if (z === undefined) {
      z = indexOfZone.size;
      indexOfZone.set(member.zone, z);
    }
    zoneOf[m] = z;
  });
  return { zoneOf, zoneCount: indexOfZone.size };
}
