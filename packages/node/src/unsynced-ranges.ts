import { TOKEN_SPACE, commonRangeStarts, type TokenRange, type RingEpoch } from '@kv/ring';

/** A token range this node owns but has not synced since it gained it. */
export interface UnsyncedRange extends TokenRange {
  /**
   * Who owned the range in the placement before this node gained it, this node left out,
   * in preference order: who holds its data. Empty when unknown (this node had no
   * placement before, having just started).
   */
  readonly previous: readonly string[];
}

/**
 * Where a node keeps its {@link UnsyncedRanges} across restarts (the LMDB engine provides
 * one), so a node restarted in the middle of joining, or while the previous owners of a
 * range it gained are away, still knows whom it must sync that range from.
 */
export interface SyncProgressJournal {
  /** The ranges saved last (none when nothing was saved). */
  load(): UnsyncedRange[];
  /** Replaces what is saved; the write may complete later. */
  save(ranges: readonly UnsyncedRange[]): void;
}

const EMPTY: readonly UnsyncedRange[] = Object.freeze([]);
const EMPTY_IDS: readonly string[] = Object.freeze([]);

/**
 * The token ranges this node owns (in either ring) but holds no synced copy of: it gained
 * them with a ring change and no sync round has since pulled them from a node that held
 * them. Until then, a read of a key in them must not be answered from this node's copy
 * alone (see `QuorumOperations.read`).
 *
 * A range is gained when this node owns it in a new placement and did not in the one
 * before; everything it owns is gained when it had no placement before (it just started,
 * empty or not). It stays unsynced until a sync round that completes under the current
 * placement could pull it from one of its previous owners, that is one of them still owns
 * it with this node; a range with no known previous owner, after any such round. A range
 * whose previous owners all left the ring thus stays unsynced until one of them comes back
 * (a coordinator that lost contact with them, then saw this node register first).
 *
 * With a journal, the ranges and their previous owners outlive a restart: the ones saved
 * are kept, with their previous owners, by the first placement after it (everything else
 * the node owns is unsynced then too, with no known previous owner).
 *
 * Synchronous; the read path pays {@link UnsyncedRanges.any} when nothing is unsynced,
 * else a binary search over the ranges, sorted by start.
 */
export class UnsyncedRanges {
  /** False when every range this node owns is synced: all that a read checks then. */
  any = false;
  private placement: RingEpoch | undefined;
  private ranges: readonly UnsyncedRange[] = EMPTY;
  private starts = new Float64Array(0);

  constructor(
    private readonly self: string,
    private readonly journal?: SyncProgressJournal,
  ) {
    const saved = journal?.load() ?? [];
    if (saved.length > 0) this.set(saved, false);
  }

  /** How many ranges are unsynced. */
  get size(): number {
    return this.ranges.length;
  }

  /** The unsynced ranges, ascending. */
  list(): readonly UnsyncedRange[] {
    return this.ranges;
  }

  /**
   * The previous owners of the unsynced range holding token `t` (possibly empty), or
   * undefined when `t` is not in one.
   */
  previousOwners(t: number): readonly string[] | undefined {
    const starts = this.starts;
    let lo = 0;
    let hi = starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((starts[mid] as number) <= t) lo = mid + 1;
      else hi = mid;
    }
    const range = this.ranges[lo - 1];
    return range !== undefined && t < range.end ? range.previous : undefined;
  }

  /** Call on every new placement: what this node gained since the last one is unsynced. */
  update(placement: RingEpoch): void {
    const before = this.placement;
    this.placement = placement;
    const rings = [placement.read, placement.target];
    if (before) rings.push(before.read, before.target);
    const cuts = commonRangeStarts(rings);
    for (const r of this.ranges) cuts.push(r.start, r.end);
    cuts.sort((a, b) => a - b);
    const next: UnsyncedRange[] = [];
    let old = 0;
    for (let i = 0; i < cuts.length; i++) {
      const start = cuts[i] as number;
      // Cuts are sorted: a repeated one starts no piece of its own.
      if (start === cuts[i + 1] || start >= TOKEN_SPACE) continue;
      const end = Math.min(cuts[i + 1] ?? TOKEN_SPACE, TOKEN_SPACE);
      if (!placement.ownersOfToken(start).includes(this.self)) continue;
      while (old < this.ranges.length && (this.ranges[old] as UnsyncedRange).end <= start) old++;
      const kept = this.ranges[old];
      let previous: readonly string[] | undefined;
      if (kept !== undefined && kept.start <= start) previous = kept.previous;
      else if (before === undefined) previous = EMPTY_IDS;
      else {
        const owners = before.ownersOfToken(start);
        if (!owners.includes(this.self)) previous = owners;
      }
      if (previous !== undefined) append(next, start, end, previous);
    }
    this.set(next);
  }

  /**
   * A sync round completed under `placement`, started late enough that every writer knew
   * it: the ranges it could pull from a previous owner are synced now.
   * @returns whether any range stays unsynced
   */
  synced(placement: RingEpoch): boolean {
    if (placement !== this.placement) return this.any;
    if (this.any)
      this.set(
        this.ranges.filter(({ start, previous }) => {
          if (previous.length === 0) return false;
          const owners = placement.ownersOfToken(start);
          return !previous.some((id) => owners.includes(id));
        }),
      );
    return this.any;
  }

  private set(ranges: readonly UnsyncedRange[], save = true): void {
    const changed = !sameRanges(this.ranges, ranges);
    this.ranges = ranges.length === 0 ? EMPTY : ranges;
    this.starts = Float64Array.from(ranges, (r) => r.start);
    this.any = ranges.length > 0;
    if (save && changed) this.journal?.save(this.ranges);
  }
}

/** Adds a piece, merged into the last range when adjacent with the same previous owners. */
function append(
  ranges: UnsyncedRange[],
  start: number,
  end: number,
  previous: readonly string[],
): void {
  const last = ranges[ranges.length - 1];
  if (last !== undefined && last.end === start && sameIds(last.previous, previous))
    ranges[ranges.length - 1] = { start: last.start, end, previous: last.previous };
  else ranges.push({ start, end, previous });
}

function sameRanges(a: readonly UnsyncedRange[], b: readonly UnsyncedRange[]): boolean {
  return (
    a.length === b.length &&
    a.every((r, i) => {
      const o = b[i] as UnsyncedRange;
      return r.start === o.start && r.end === o.end && sameIds(r.previous, o.previous);
    })
  );
}

function sameIds(a: readonly string[], b: readonly string[]): boolean {
  return a === b || (a.length === b.length && a.every((id, i) => id === b[i]));
}
