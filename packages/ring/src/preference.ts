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
  const total = table.length / width;
  const { zoneOf, zoneCount, hostOf, hostCount } = labels;
  const taken: Taken =
    count <= SHORT_WALK ? new TakenList(labels) : new TakenMarks(labels, memberSlots);
  const walk = (more: () => boolean, wanted: (m: number) => boolean): void => {
    for (let i = 0, pos = start; i < total && taken.order.length < count && more(); i++) {
      const m = table[pos * width] as number;
      if (wanted(m)) taken.pick(m);
      pos = pos + 1 === total ? 0 : pos + 1;
    }
  };
  if (zoneCount > 1) {
    walk(
      () => taken.zones < zoneCount,
      (m) => !taken.hasZone(zoneOf[m] as number),
    );
  }
  if (hostPass(labels)) {
    walk(
      () => taken.hosts < hostCount,
      (m) => !taken.hasHost(hostOf[m] as number),
    );
  }
  walk(
    () => true,
    (m) => !taken.hasMember(m),
  );
  return taken.order;
}

/** Orders up to this long keep what they took in lists rather than in marks per member. */
const SHORT_WALK = 8;

/** What a walk has taken: members in order, and the zones and hosts they stand for. */
interface Taken {
  readonly order: number[];
  readonly zones: number;
  readonly hosts: number;
  pick(member: number): void;
  hasMember(member: number): boolean;
  hasZone(zone: number): boolean;
  hasHost(host: number): boolean;
}

/** For long walks: one mark per member, zone and host. */
class TakenMarks implements Taken {
  readonly order: number[] = [];
  zones = 0;
  hosts = 0;
  private readonly members: Uint8Array;
  private readonly zoneMarks: Uint8Array;
  private readonly hostMarks: Uint8Array;

  constructor(
    private readonly labels: Labels,
    memberSlots: number,
  ) {
    this.members = new Uint8Array(memberSlots);
    this.zoneMarks = new Uint8Array(labels.zoneSlots);
    this.hostMarks = new Uint8Array(labels.hostSlots);
  }

  pick(member: number): void {
    this.order.push(member);
    this.members[member] = 1;
    const z = this.labels.zoneOf[member] as number;
    if (this.zoneMarks[z] === 0) {
      this.zoneMarks[z] = 1;
      this.zones++;
    }
    const h = this.labels.hostOf[member] as number;
    if (this.hostMarks[h] === 0) {
      this.hostMarks[h] = 1;
      this.hosts++;
    }
  }

  hasMember(member: number): boolean {
    return this.members[member] === 1;
  }

  hasZone(zone: number): boolean {
    return this.zoneMarks[zone] === 1;
  }

  hasHost(host: number): boolean {
    return this.hostMarks[host] === 1;
  }
}

/** For short walks (the rows a change touches): lists, so a walk allocates next to nothing. */
class TakenList implements Taken {
  readonly order: number[] = [];
  private readonly zoneList: number[] = [];
  private readonly hostList: number[] = [];

  constructor(private readonly labels: Labels) {}

  get zones(): number {
    return this.zoneList.length;
  }

  get hosts(): number {
    return this.hostList.length;
  }

  pick(member: number): void {
    this.order.push(member);
    const z = this.labels.zoneOf[member] as number;
    if (!this.zoneList.includes(z)) this.zoneList.push(z);
    const h = this.labels.hostOf[member] as number;
    if (!this.hostList.includes(h)) this.hostList.push(h);
  }

  hasMember(member: number): boolean {
    return this.order.includes(member);
  }

  hasZone(zone: number): boolean {
    return this.zoneList.includes(zone);
  }

  hasHost(host: number): boolean {
    return this.hostList.includes(host);
  }
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
