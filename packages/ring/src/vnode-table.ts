import { LabelIndex } from './labels';
import { locate, vnodeCount, vnodeTokens } from './layout';
import { hostOf, type Member } from './member';
import { preferenceTable, walkOrder, type Labels, type SlotArray } from './preference';
import { applyChanges, type VnodeChanges } from './vnode-changes';

/**
 * Everything a ring precomputes to answer lookups: vnode tokens in a typed array, and the
 * first `width` members of the preference order at every vnode, where
 * width = min(replication factor, member count). Immutable once built.
 *
 * Members are numbered by **slot**, not by their place in the sorted member list: a table
 * derived from another keeps every remaining member's slot (a new member takes a free one),
 * so the vnodes and precomputed lists a change does not touch are copied as they are. Slots
 * never show in results, which are ids.
 */
export class VnodeTable {
  /** Member id by slot; `undefined` for a free slot. */
  readonly ids: readonly (string | undefined)[];
  /** Vnode tokens, ascending. */
  readonly tokens: Float64Array;
  /** Precomputed preference entries per vnode: min(replication factor, member count). */
  readonly width: number;
  /**
   * `table[pos * width + i]`: member slot of entry i of the order at vnode `pos`. Entry 0 is
   * the owner of the vnode (every pass starts with it), so no separate owner array is kept.
   */
  readonly table: SlotArray;
  /** Zone and host indices by slot. */
  readonly labels: Labels;
  /** Slot of each member id. */
  readonly slotOf: ReadonlyMap<string, number>;
  /** The member in each slot. */
  private readonly bySlot: readonly (Member | undefined)[];
  /** Tokens of each slot's vnodes in vnode index order: kept so a change never re-hashes them. */
  private readonly memberTokens: readonly (Float64Array | undefined)[];
  private readonly zones: LabelIndex;
  private readonly hosts: LabelIndex;

  private constructor(parts: {
    bySlot: readonly (Member | undefined)[];
    memberTokens: readonly (Float64Array | undefined)[];
    tokens: Float64Array;
    width: number;
    table: SlotArray;
    labels: Labels;
    zones: LabelIndex;
    hosts: LabelIndex;
  }) {
    this.bySlot = parts.bySlot;
    this.ids = parts.bySlot.map((m) => m?.id);
    const slotOf = new Map<string, number>();
    parts.bySlot.forEach((m, slot) => m && slotOf.set(m.id, slot));
    this.slotOf = slotOf;
    this.memberTokens = parts.memberTokens;
    this.tokens = parts.tokens;
    this.width = parts.width;
    this.table = parts.table;
    this.labels = parts.labels;
    this.zones = parts.zones;
    this.hosts = parts.hosts;
  }

  /**
   * Lays out `members` (sorted by id as UTF-8 bytes) from scratch: every vnode is hashed and
   * sorted, every list computed. Slots follow the member order, so a stable sort on
   * generation order is the documented tie-break on (id bytes, vnode index).
   */
  static build(
    members: readonly Member[],
    vnodesPerWeight: number,
    replicationFactor: number,
  ): VnodeTable {
    const counts = members.map((m) => vnodeCount(m.weight, vnodesPerWeight));
    const total = counts.reduce((a, b) => a + b, 0);
    const unsorted = new Float64Array(total);
    const memberOf = new Uint32Array(total);
    const memberTokens: Float64Array[] = [];
    let v = 0;
    members.forEach((member, m) => {
      const count = counts[m] ?? 0;
      const own = vnodeTokens(member.id, 0, count);
      unsorted.set(own, v);
      memberOf.fill(m, v, v + count);
      memberTokens.push(own);
      v += count;
    });
    const order = new Uint32Array(total);
    for (let i = 0; i < total; i++) order[i] = i;
    order.sort((a, b) => (unsorted[a] as number) - (unsorted[b] as number) || a - b);
    const tokens = new Float64Array(total);
    const owners = new Uint32Array(total);
    for (let i = 0; i < total; i++) {
      const from = order[i] as number;
      tokens[i] = unsorted[from] as number;
      owners[i] = memberOf[from] as number;
    }
    const zones = new LabelIndex();
    const hosts = new LabelIndex();
    const zoneOf = new Uint32Array(members.length);
    const hostOfSlot = new Uint32Array(members.length);
    members.forEach((member, m) => {
      zoneOf[m] = zones.hold(member.zone);
      hostOfSlot[m] = hosts.hold(hostOf(member));
    });
    const labels = labelsOf(zoneOf, hostOfSlot, zones, hosts, members.length);
    const width = Math.min(replicationFactor, members.length);
    return new VnodeTable({
      bySlot: members,
      memberTokens,
      tokens,
      width,
      table: preferenceTable(owners, labels, width, members.length),
      labels,
      zones,
      hosts,
    });
  }

  /**
   * The table for `members` (sorted by id as UTF-8 bytes) derived from this one: only the
   * vnodes of members that joined, left or changed are hashed, placed or taken out, and only
   * the lists whose walk meets one of them are computed again; the rest is copied. Gives
   * exactly what {@link VnodeTable.build} gives for the same members.
   */
  derive(
    members: readonly Member[],
    vnodesPerWeight: number,
    replicationFactor: number,
  ): VnodeTable {
    if (this.tokens.length === 0 || members.length === 0) {
      return VnodeTable.build(members, vnodesPerWeight, replicationFactor);
    }
    const bySlot = [...this.bySlot];
    const memberTokens = [...this.memberTokens];
    const zones = new LabelIndex(this.zones);
    const hosts = new LabelIndex(this.hosts);
    const changes: VnodeChanges = { removed: [], added: [] };
    const freeSlots: number[] = [];
    const kept = new Set<string>();
    for (const member of members) kept.add(member.id);
    for (let slot = bySlot.length - 1; slot >= 0; slot--) {
      const old = bySlot[slot];
      if (old === undefined) freeSlots.push(slot);
      else if (!kept.has(old.id)) {
        removeVnodes(changes, slot, memberTokens[slot] as Float64Array, 0);
        zones.release(old.zone);
        hosts.release(hostOf(old));
        bySlot[slot] = undefined;
        memberTokens[slot] = undefined;
        freeSlots.push(slot);
      }
    }
    // Free slots are taken lowest first, so a table's slots stay dense.
    freeSlots.sort((a, b) => b - a);
    const relabelled: { slot: number; member: Member }[] = [];
    for (const member of members) {
      const count = vnodeCount(member.weight, vnodesPerWeight);
      const known = this.slotOf.get(member.id);
      const old = known === undefined ? undefined : bySlot[known];
      if (known === undefined || old === undefined) {
        const slot = freeSlots.pop() ?? bySlot.length;
        const own = vnodeTokens(member.id, 0, count);
        bySlot[slot] = member;
        memberTokens[slot] = own;
        addVnodes(changes, slot, member.id, own, 0);
        relabelled.push({ slot, member });
        continue;
      }
      if (old === member || sameMember(old, member)) continue;
      const slot = known;
      const before = memberTokens[slot] as Float64Array;
      const own = resized(member.id, before, count);
      bySlot[slot] = member;
      memberTokens[slot] = own;
      if (old.zone !== member.zone || hostOf(old) !== hostOf(member)) {
        // Its lists change wherever it stands: out with every vnode, in again relabelled.
        removeVnodes(changes, slot, before, 0);
        addVnodes(changes, slot, member.id, own, 0);
        zones.release(old.zone);
        hosts.release(hostOf(old));
        relabelled.push({ slot, member });
      } else if (own.length > before.length) {
        addVnodes(changes, slot, member.id, own.subarray(before.length), before.length);
      } else {
        removeVnodes(changes, slot, before, own.length);
      }
    }
    const zoneOf = new Uint32Array(bySlot.length);
    const hostOfSlot = new Uint32Array(bySlot.length);
    zoneOf.set(this.labels.zoneOf.subarray(0, Math.min(bySlot.length, this.ids.length)));
    hostOfSlot.set(this.labels.hostOf.subarray(0, Math.min(bySlot.length, this.ids.length)));
    for (const { slot, member } of relabelled) {
      zoneOf[slot] = zones.hold(member.zone);
      hostOfSlot[slot] = hosts.hold(hostOf(member));
    }
    const labels = labelsOf(zoneOf, hostOfSlot, zones, hosts, members.length);
    const width = Math.min(replicationFactor, members.length);
    const { tokens, table } = applyChanges(this, changes, labels, width);
    return new VnodeTable({
      bySlot,
      memberTokens,
      tokens,
      width,
      table,
      labels,
      zones,
      hosts,
    });
  }

  /** Number of vnodes. */
  get size(): number {
    return this.tokens.length;
  }

  /** Member slots are below this. */
  get slots(): number {
    return this.ids.length;
  }

  /** Position of the vnode owning token `t`. The ring must not be empty. */
  locate(t: number): number {
    return locate(this.tokens, t);
  }

  /** Slot of the member owning the vnode at `pos`. */
  ownerOf(pos: number): number {
    return this.table[pos * this.width] as number;
  }

  /** Id of the member owning the vnode at `pos`. */
  ownerId(pos: number): string {
    return this.ids[this.ownerOf(pos)] as string;
  }

  /** The first `count` ids of the preference order at `pos` (fewer if the ring is smaller). */
  list(pos: number, count: number): string[] {
    const n = Math.min(count, this.slotOf.size);
    if (n > this.width) {
      return walkOrder(this.table, this.width, this.labels, this.slots, pos, n).map(
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

function labelsOf(
  zoneOf: Uint32Array,
  hostOfSlot: Uint32Array,
  zones: LabelIndex,
  hosts: LabelIndex,
  memberCount: number,
): Labels {
  return {
    memberCount,
    zoneOf,
    hostOf: hostOfSlot,
    zoneCount: zones.distinct,
    hostCount: hosts.distinct,
    zoneSlots: zones.slots,
    hostSlots: hosts.slots,
  };
}

function sameMember(a: Member, b: Member): boolean {
  return a.id === b.id && a.weight === b.weight && a.zone === b.zone && a.host === b.host;
}

/** A member's tokens for `count` vnodes, reusing those it had and hashing only new ones. */
function resized(id: string, before: Float64Array, count: number): Float64Array {
  if (count <= before.length) return before.subarray(0, count);
  const own = new Float64Array(count);
  own.set(before);
  own.set(vnodeTokens(id, before.length, count), before.length);
  return own;
}

function removeVnodes(changes: VnodeChanges, slot: number, own: Float64Array, from: number): void {
  for (let i = from; i < own.length; i++) changes.removed.push({ slot, token: own[i] as number });
}

function addVnodes(
  changes: VnodeChanges,
  slot: number,
  id: string,
  own: Float64Array,
  firstIndex: number,
): void {
  for (let i = 0; i < own.length; i++) {
    changes.added.push({ slot, id, index: firstIndex + i, token: own[i] as number });
  }
}
