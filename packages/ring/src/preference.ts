/**
 * Preference order of a ring: from a virtual node, walk clockwise collecting distinct
 * members in three passes: members whose zone is not yet represented (with more than one
 * zone), then members whose host is not yet represented (with more than one host), then
 * the remaining members, each pass in walk order.
 *
 * The order for n members is a prefix of the order for n + 1, so one full order per
 * position answers every n; `preferenceTable` precomputes its first `width` entries for
 * every position and `walkOrder` computes it on demand past that.
 *
 * Members are numbered by slot (see vnode-table.ts); zones and hosts by index.
 */

/**
 * Member slots by position: 16 bits each while slots fit (up to 65,536 members), else 32.
 * The tables are the bulk of a ring's memory and of what a change copies.
 */
export type SlotArray = Uint16Array | Uint32Array;

/** An array of `length` slots below `slots`, as narrow as they allow. */
export function slotArray(slots: number, length: number): SlotArray {
  return slots <= 0x10000 ? new Uint16Array(length) : new Uint32Array(length);
}

/** Zones and hosts as indices: `zoneOf[slot]` and `hostOf[slot]`. */
export interface Labels {
  readonly zoneOf: Uint32Array;
  readonly hostOf: Uint32Array;
  /** Distinct zones among the members. */
  readonly zoneCount: number;
  /** Distinct hosts among the members. */
  readonly hostCount: number;
  /** Members. */
  readonly memberCount: number;
  /** Zone indices are below this (indices of zones no member has any more stay unused). */
  readonly zoneSlots: number;
  /** Host indices are below this. */
  readonly hostSlots: number;
}

/**
 * How many distinct zones and hosts the first `width` entries of an order depend on: a zone
 * pass takes min(width, zones) zones, and a host pass looks at no more than `width` hosts
 * (at most zoneWidth of them are hosts of zone picks). Zero when the pass is off.
 */
export interface Passes {
  readonly width: number;
  readonly zoneWidth: number;
  readonly hostWidth: number;
}

/** The passes the first `width` entries of every order go through with these labels. */
export function passesOf(labels: Labels, width: number): Passes {
  return {
    width,
    zoneWidth: labels.zoneCount > 1 ? Math.min(width, labels.zoneCount) : 0,
    hostWidth: hostPass(labels) ? Math.min(width, labels.hostCount) : 0,
  };
}

/**
 * Whether the host pass can pick differently from the fill pass: not with one host, and not
 * when every member has a host of its own (then both take every member in walk order).
 */
function hostPass({ hostCount, memberCount }: Labels): boolean {
  return hostCount > 1 && hostCount < memberCount;
}

/** Whether two rings' rows are computed alike, so unchanged windows give unchanged rows. */
export function samePasses(a: Passes, b: Passes): boolean {
  return a.width === b.width && a.zoneWidth === b.zoneWidth && a.hostWidth === b.hostWidth;
}

/**
 * The first `width` members of the preference order at every position, row-major
 * (`table[pos * width + i]`). `width` must not exceed the member count.
 *
 * One backward sweep over two laps of the ring keeps the `width` members (and zones, and
 * hosts) nearest ahead of the current position in most-recently-seen order, which is walk
 * order seen from that position; so the cost is O(vnodes × width) rather than a walk per
 * vnode.
 */
export function preferenceTable(
  owners: Uint32Array,
  labels: Labels,
  width: number,
  slots: number,
): SlotArray {
  const total = owners.length;
  const table = slotArray(slots, total * width);
  const { zoneOf, hostOf } = labels;
  const { zoneWidth, hostWidth } = passesOf(labels, width);
  const nearestMembers = new Int32Array(width).fill(-1);
  // Zones (hosts) in order of their nearest vnode ahead, and the member at that vnode: the
  // zone's (host's) pick in its pass.
  const nearestZones = new Int32Array(zoneWidth).fill(-1);
  const pickOfZone = new Int32Array(zoneWidth > 0 ? labels.zoneSlots : 0).fill(-1);
  const nearestHosts = new Int32Array(hostWidth).fill(-1);
  const pickOfHost = new Int32Array(hostWidth > 0 ? labels.hostSlots : 0).fill(-1);
  const simple = zoneWidth === 0 && hostWidth === 0;
  for (let step = 2 * total - 1; step >= 0; step--) {
    const pos = step >= total ? step - total : step;
    const member = owners[pos] as number;
    moveToFront(nearestMembers, member);
    if (zoneWidth > 0) {
      const zone = zoneOf[member] as number;
      moveToFront(nearestZones, zone);
      pickOfZone[zone] = member;
    }
    if (hostWidth > 0) {
      const host = hostOf[member] as number;
      moveToFront(nearestHosts, host);
      pickOfHost[host] = member;
    }
    if (step >= total) continue; // first lap: the lists are not complete yet
    const row = pos * width;
    if (simple) {
      table.set(nearestMembers, row);
      continue;
    }
    let filled = 0;
    for (; filled < zoneWidth; filled++) {
      table[row + filled] = pickOfZone[nearestZones[filled] as number] as number;
    }
    // A host's pick joins unless a zone pick already stands for its host.
    for (let i = 0; i < hostWidth && filled < width; i++) {
      const host = nearestHosts[i] as number;
      if (!hostTaken(table, row, filled, hostOf, host)) {
        table[row + filled++] = pickOfHost[host] as number;
      }
    }
    // At most `filled` of the `width` nearest members are picks, so enough remain.
    for (let i = 0; filled < width; i++) {
      const m = nearestMembers[i] as number;
      if (!taken(table, row, filled, m)) table[row + filled++] = m;
    }
  }
  return table;
}

function taken(table: SlotArray, row: number, filled: number, member: number): boolean {
  for (let i = 0; i < filled; i++) if (table[row + i] === member) return true;
  return false;
}

function hostTaken(
  table: SlotArray,
  row: number,
  filled: number,
  hostOf: Uint32Array,
  host: number,
): boolean {
  for (let i = 0; i < filled; i++) if (hostOf[table[row + i] as number] === host) return true;
  return false;
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
 * ring as the specification states (`count` ≤ member count). O(vnodes) at worst; used past
 * the precomputed width, and for the rows a membership change touches.
 *
 * @param table - a preference table whose rows are `width` long: entry 0 of each row is the
 *   owner of the vnode there, which is all the walk reads
 * @param memberSlots - member slots are below this
 */
export function walkOrder(
  table: SlotArray,
  width: number,
  labels: Labels,
  memberSlots: number,
  start: number,
  count: number,
): number[] {
  if (count <= SHORT_WALK) return walkShort(table, width, labels, start, count);
  const total = table.length / width;
  const { zoneOf, zoneCount, hostOf, hostCount } = labels;
  const taken = new Uint8Array(memberSlots);
  const order: number[] = [];
  const hostTaken = hostPass(labels) ? new Uint8Array(labels.hostSlots) : undefined;
  let hosts = 0;
  const pick = (m: number): void => {
    taken[m] = 1;
    order.push(m);
    if (hostTaken !== undefined && hostTaken[hostOf[m] as number] === 0) {
      hostTaken[hostOf[m] as number] = 1;
      hosts++;
    }
  };
  if (zoneCount > 1) {
    const zoneTaken = new Uint8Array(labels.zoneSlots);
    let zones = 0;
    for (let i = 0, pos = start; i < total && order.length < count && zones < zoneCount; i++) {
      const m = table[pos * width] as number;
      const z = zoneOf[m] as number;
      if (zoneTaken[z] === 0) {
        zoneTaken[z] = 1;
        zones++;
        pick(m);
      }
      pos = pos + 1 === total ? 0 : pos + 1;
    }
  }
  if (hostTaken !== undefined) {
    for (let i = 0, pos = start; i < total && order.length < count && hosts < hostCount; i++) {
      const m = table[pos * width] as number;
      if (hostTaken[hostOf[m] as number] === 0) pick(m);
      pos = pos + 1 === total ? 0 : pos + 1;
    }
  }
  for (let i = 0, pos = start; i < total && order.length < count; i++) {
    const m = table[pos * width] as number;
    if (taken[m] === 0) pick(m);
    pos = pos + 1 === total ? 0 : pos + 1;
  }
  return order;
}

/** Orders up to this long are walked with lists instead of marks per member. */
const SHORT_WALK = 8;

/**
 * {@link walkOrder} for a short order (the rows a membership change touches): what is taken
 * is looked up in the order itself, so a walk allocates nothing per member, zone or host.
 */
function walkShort(
  table: SlotArray,
  width: number,
  labels: Labels,
  start: number,
  count: number,
): number[] {
  const total = table.length / width;
  const { zoneOf, zoneCount, hostOf, hostCount } = labels;
  const order: number[] = [];
  const zones: number[] = [];
  const hosts: number[] = [];
  const pick = (m: number): void => {
    order.push(m);
    const z = zoneOf[m] as number;
    if (!zones.includes(z)) zones.push(z);
    const h = hostOf[m] as number;
    if (!hosts.includes(h)) hosts.push(h);
  };
  if (zoneCount > 1) {
    for (
      let i = 0, pos = start;
      i < total && order.length < count && zones.length < zoneCount;
      i++
    ) {
      const m = table[pos * width] as number;
      if (!zones.includes(zoneOf[m] as number)) pick(m);
      pos = pos + 1 === total ? 0 : pos + 1;
    }
  }
  if (hostPass(labels)) {
    for (
      let i = 0, pos = start;
      i < total && order.length < count && hosts.length < hostCount;
      i++
    ) {
      const m = table[pos * width] as number;
      if (!hosts.includes(hostOf[m] as number)) pick(m);
      pos = pos + 1 === total ? 0 : pos + 1;
    }
  }
  for (let i = 0, pos = start; i < total && order.length < count; i++) {
    const m = table[pos * width] as number;
    if (!order.includes(m)) pick(m);
    pos = pos + 1 === total ? 0 : pos + 1;
  }
  return order;
}

/**
 * Counts what a stretch of the ring holds, to tell when the first `width` entries of an
 * order that walks over it are decided within it: they are once it holds `width` distinct
 * members, `zoneWidth` distinct zones and `hostWidth` distinct hosts.
 */
export class Coverage {
  private readonly members: number[] = [];
  private readonly zones: number[] = [];
  private readonly hosts: number[] = [];

  constructor(
    private readonly passes: Passes,
    private readonly labels: Labels,
  ) {}

  /** Adds the member of one more vnode; true once the stretch decides every order over it. */
  add(member: number): boolean {
    const { width, zoneWidth, hostWidth } = this.passes;
    addDistinct(this.members, member, width);
    if (zoneWidth > 0) addDistinct(this.zones, this.labels.zoneOf[member] as number, zoneWidth);
    if (hostWidth > 0) addDistinct(this.hosts, this.labels.hostOf[member] as number, hostWidth);
    return (
      this.members.length >= width &&
      this.zones.length >= zoneWidth &&
      this.hosts.length >= hostWidth
    );
  }
}

function addDistinct(list: number[], value: number, cap: number): void {
  if (list.length < cap && !list.includes(value)) list.push(value);
}
