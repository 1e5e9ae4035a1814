import type { VnodeTable } from './vnode-table';
import { forEachPiece, type TokenRange } from './ranges';
import type { Ring } from './ring';

/** A token range whose preference list differs between two rings. */
export interface RangeChange extends TokenRange {
  /** Preference list before (replication factor long, primary first); empty if the ring was. */
  readonly before: readonly string[];
  /** Preference list after. */
  readonly after: readonly string[];
}

/**
 * Token ranges whose preference list (each ring's replication factor long) differs between
 * two vnode tables, ascending; adjacent changed pieces with the same before and after lists
 * are merged. A change of order alone (a new primary) counts as a change.
 */
export function diffTables(before: VnodeTable, after: VnodeTable): RangeChange[] {
  const changes: RangeChange[] = [];
  let lastBefore = -1;
  let lastAfter = -1;
  let lastEnd = -1;
  forEachPiece(before, after, (start, end, posBefore, posAfter) => {
    if (before.sameList(posBefore, after, posAfter)) return;
    const previous = changes[changes.length - 1];
    if (
      previous !== undefined &&
      lastEnd === start &&
      before.sameList(lastBefore, before, posBefore) &&
      after.sameList(lastAfter, after, posAfter)
    ) {
      changes[changes.length - 1] = { ...previous, end };
    } else {
      changes.push({
        start,
        end,
        before: Object.freeze(before.list(posBefore, before.width)),
        after: Object.freeze(after.list(posAfter, after.width)),
      });
    }
    lastBefore = posBefore;
    lastAfter = posAfter;
    lastEnd = end;
  });
  return changes;
}

/**
 * The token ranges whose preference lists (each ring's replication factor long) differ
 * between `before` and `after`, with the lists on both sides: what rebalancing must move.
 * Ranges are ascending and never wrap (see {@link TokenRange}); adjacent changes with the
 * same lists are merged. A change of order alone (a new primary) counts as a change. Either
 * ring may be empty: its lists are then empty.
 */
export function diff(before: Ring, after: Ring): RangeChange[] {
  return diffTables(before.vnodes, after.vnodes);
}
