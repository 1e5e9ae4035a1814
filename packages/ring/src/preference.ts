/**
 * Preference order of a ring: from a virtual node, walk clockwise collecting distinct
 * members. With more than one zone, a first pass takes (in walk order) members whose zone
 * is not yet represented, and a second pass fills with the remaining members in walk order.
 *
 * The order for n members is a prefix of the order for n + 1, so one full order per
 * position answers every n; `preferenceTable` precomputes its first `width` entries for
 * every position and `walkOrder` computes it on demand past that.
 */

/** Zones as indices: `zoneOf[member]` in `[0, zoneCount)`. */
export interface Zoning {
  readonly zoneOf: Uint32Array;
  readonly zoneCount: number;
}

/**
 * The first `width` members of the preference order at every position, row-major
 * (`table[pos * width + i]`). `width` must not exceed the member count.
 *
 * One backward sweep over two laps of the ring keeps the `width` members (and zones)
 * nearest ahead of the current position in most-recently-seen order, which is walk order
 * seen from that position; so the cost is O(vnodes × width) rather than a walk per vnode.
 */
export function preferenceTable(owners: Uint32Array, zoning: Zoning, width: number): Uint32Array {
  const total = owners.length;
  const table = new Uint32Array(total * width);
  const { zoneOf, zoneCount } = zoning;
  const nearestMembers = new Int32Array(width).fill(-1);
  // Zones in order of their nearest vnode ahead, and the member at that vnode: the zone's
  // pick in the first pass.
  const zoneWidth = zoneCount > 1 ? Math.min(width, zoneCount) : 0;
  const nearestZones = new Int32Array(zoneWidth).fill(-1);
  const pickOfZone = new Int32Array(zoneCount).fill(-1);
  for (let step = 2 * total - 1; step >= 0; step--) {
    const pos = step >= total ? step - total : step;
    const member = owners[pos] as number;
    moveToFront(nearestMembers, member);
    if (zoneWidth > 0) {
      const zone = zoneOf[member] as number;
      moveToFront(nearestZones, zone);
      pickOfZone[zone] = member;
    }
    if (step >= total) continue; // first lap: the lists are not complete yet
    const row = pos * width;
    if (zoneWidth === 0) {
      table.set(nearestMembers, row);
      continue;
    }
    let filled = 0;
    for (; filled < zoneWidth; filled++) {
      table[row + filled] = pickOfZone[nearestZones[filled] as number] as number;
    }
    // Fewer zones than width: every zone's pick is in; fill in walk order. At most zoneWidth
    // of the `width` nearest members are picks, so enough remain.
    for (let i = 0; filled < width; i++) {
      const m = nearestMembers[i] as number;
      if (pickOfZone[zoneOf[m] as number] !== m) table[row + filled++] = m;
    }
  }
  return table;
}

/** Moves `value` to the front of `list`, shifting the others back; drops the last if absent. */
function moveToFront(list: Int32Array, value: number): void {
  let i = list.indexOf(value);
  if (i < 0) i = list.length - 1;
  for (; i > 0; i--) list[i] = list[i - 1] as number;
  list[0] = value;
}

/**
 * The first `count` members of the preference order from position `start`, by walking the
 * ring as the specification states (`count` ≤ member count). O(vnodes); used past the
 * precomputed width.
 */
export function walkOrder(
  owners: Uint32Array,
  zoning: Zoning,
  memberCount: number,
  start: number,
  count: number,
): number[] {
  const total = owners.length;
  const { zoneOf, zoneCount } = zoning;
  const taken = new Uint8Array(memberCount);
  const order: number[] = [];
  if (zoneCount > 1) {
    const zoneTaken = new Uint8Array(zoneCount);
    let zones = 0;
    for (let i = 0, pos = start; i < total && order.length < count && zones < zoneCount; i++) {
      const m = owners[pos] as number;
      const z = zoneOf[m] as number;
      if (zoneTaken[z] === 0) {
        zoneTaken[z] = 1;
        zones++;
        taken[m] = 1;
        order.push(m);
      }
      pos = pos + 1 === total ? 0 : pos + 1;
    }
  }
  for (let i = 0, pos = start; i < total && order.length < count; i++) {
    const m = owners[pos] as number;
    if (taken[m] === 0) {
      taken[m] = 1;
      order.push(m);
    }
    pos = pos + 1 === total ? 0 : pos + 1;
  }
  return order;
}
