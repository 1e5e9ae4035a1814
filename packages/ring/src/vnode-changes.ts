import { compareIds, lowerBound } from './layout';
import {
  Coverage,
  passesOf,
  preferenceTable,
  samePasses,
  slotArray,
  walkOrder,
  type Labels,
  type Passes,
  type SlotArray,
} from './preference';
import type { VnodeTable } from './vnode-table';

/** Vnodes a membership change takes out of a table and puts in. */
export interface VnodeChanges {
  readonly removed: { readonly slot: number; readonly token: number }[];
  readonly added: {
    readonly slot: number;
    readonly id: string;
    readonly index: number;
    readonly token: number;
  }[];
}

/** The arrays of a table after a change. */
export interface ChangedArrays {
  readonly tokens: Float64Array;
  readonly table: SlotArray;
}

type AddedVnode = VnodeChanges['added'][0];

/**
 * Applies `changes` to `before`: merges the added vnodes into the sorted token array and
 * drops the removed ones, copying the stretches in between whole; then computes again only
 * the preference lists that walk over a changed spot. The list at `p` is decided by the
 * stretch from `p` up to where it holds `width` members (and the zones and hosts the passes
 * need); that end never moves back as `p` moves forward, so the lists a changed spot can
 * reach are the ones just before it, found by walking back until the stretch up to the spot
 * decides every list on its own.
 *
 * When the passes differ (another width, or zones or hosts that turn a pass on or off), the
 * slots outgrow 16 bits, or the changes reach much of the ring, every list is computed again
 * in one sweep instead.
 */
export function applyChanges(
  before: VnodeTable,
  changes: VnodeChanges,
  labels: Labels,
  width: number,
): ChangedArrays {
  const removedAt = removedPositions(before, changes.removed);
  const added = [...changes.added].sort(
    (a, b) => a.token - b.token || compareIds(a.id, b.id) || a.index - b.index,
  );
  const oldWidth = before.width;
  const oldTotal = before.size;
  const total = oldTotal - removedAt.length + added.length;
  const slots = labels.zoneOf.length;
  const tokens = new Float64Array(total);
  const passes = passesOf(labels, width);
  // Rows are kept when they are computed alike and stored alike; else only owners are.
  const keepRows =
    samePasses(passesOf(before.labels, oldWidth), passes) &&
    slotArray(slots, 0).constructor === before.table.constructor;
  const rowWidth = keepRows ? width : 1;
  const kept = slotArray(slots, total * rowWidth);
  // Spots where the ring changed, as positions of the new ring: each added vnode, and the
  // vnode that now follows each removed one. Lists before a spot may walk over it.
  const spots: number[] = [];
  const addedAt: number[] = [];
  const copy = (from: number, to: number, at: number): void => {
    tokens.set(before.tokens.subarray(from, to), at);
    if (keepRows) kept.set(before.table.subarray(from * width, to * width), at * width);
    else for (let p = from; p < to; p++) kept[at + p - from] = before.table[p * oldWidth] as number;
  };
  let o = 0;
  let n = 0;
  let ri = 0;
  let ai = 0;
  let insertAt = added.length > 0 ? insertionPoint(before, added[0] as AddedVnode) : oldTotal;
  while (o < oldTotal || ai < added.length) {
    const nextRemoved = ri < removedAt.length ? (removedAt[ri] as number) : oldTotal;
    const stop = Math.min(nextRemoved, ai < added.length ? insertAt : oldTotal);
    if (stop > o) {
      copy(o, stop, n);
      n += stop - o;
      o = stop;
    }
    if (ai < added.length && insertAt === o) {
      const vnode = added[ai] as AddedVnode;
      tokens[n] = vnode.token;
      kept[n * rowWidth] = vnode.slot;
      addedAt.push(n);
      spots.push(n);
      n++;
      ai++;
      if (ai < added.length) insertAt = insertionPoint(before, added[ai] as AddedVnode);
    } else if (ri < removedAt.length && nextRemoved === o) {
      spots.push(n);
      o++;
      ri++;
    }
  }
  if (total === 0 || width === 0) return { tokens, table: slotArray(slots, 0) };
  if (keepRows && recompute(kept, labels, spots, addedAt, passes)) {
    return { tokens, table: kept };
  }
  const owners = new Uint32Array(total);
  for (let p = 0; p < total; p++) owners[p] = kept[p * rowWidth] as number;
  return { tokens, table: preferenceTable(owners, labels, width, slots) };
}

/**
 * Computes again the lists that walk over a changed spot; false if that would touch more
 * than an eighth of the ring, when one sweep over everything is cheaper.
 */
function recompute(
  table: SlotArray,
  labels: Labels,
  spots: readonly number[],
  addedAt: readonly number[],
  passes: Passes,
): boolean {
  const { width } = passes;
  const total = table.length / width;
  const budget = Math.max(64, total >>> 3);
  const slots = labels.zoneOf.length;
  const done = new Set<number>();
  const setRow = (p: number): void => {
    if (done.has(p)) return;
    done.add(p);
    table.set(walkOrder(table, width, labels, slots, p, width), p * width);
  };
  for (const p of addedAt) setRow(p);
  let steps = 0;
  for (const spot of spots) {
    const coverage = new Coverage(passes, labels);
    for (let back = 1; back <= total; back++) {
      const p = (((spot - back) % total) + total) % total;
      if (coverage.add(table[p * width] as number)) break;
      setRow(p);
      if (++steps > budget) return false;
    }
  }
  return true;
}

/** Positions in `before` of the removed vnodes, ascending. */
function removedPositions(before: VnodeTable, removed: VnodeChanges['removed']): Int32Array {
  const positions = new Int32Array(removed.length);
  const taken = new Set<number>();
  removed.forEach(({ slot, token }, i) => {
    let p = lowerBound(before.tokens, token);
    // Equal tokens are rare; among them, find this slot's vnode not taken yet.
    while (before.ownerOf(p) !== slot || taken.has(p)) p++;
    taken.add(p);
    positions[i] = p;
  });
  return positions.sort();
}

/** Where in `before` an added vnode goes: before the first vnode that sorts after it. */
function insertionPoint(before: VnodeTable, vnode: AddedVnode): number {
  const { tokens } = before;
  let p = lowerBound(tokens, vnode.token);
  while (
    p < tokens.length &&
    tokens[p] === vnode.token &&
    compareIds(before.ownerId(p), vnode.id) <= 0
  ) {
    p++;
  }
  return p;
}
