import type { VnodeTable } from './vnode-table';
import { TOKEN_SPACE } from './token';

/**
 * A range of tokens: every integer t with `start ≤ t < end`, where
 * `0 ≤ start < end ≤ 2^48`. Ranges never wrap: the arc of the ring that crosses from the
 * top of the token space to 0 is reported as two ranges, one ending at `2^48` and one
 * starting at 0. A store that keeps data ordered by token scans a range with
 * `gte: start, lt: end`.
 */
export interface TokenRange {
  /** First token of the range (inclusive). */
  readonly start: number;
  /** Token just past the range (exclusive); at most `2^48`. */
  readonly end: number;
}

/** A token range and the preference list (replication factor long) of every token in it. */
export interface OwnedRange extends TokenRange {
  /** Primary first, then replicas. */
  readonly owners: readonly string[];
}

/**
 * Calls `visit(start, end, posA, posB)` for each piece of the token space, in ascending
 * order, on which the owning vnode of `a` (position `posA`) and of `b` (position `posB`)
 * are both constant. Empty rings report position 0. Pieces are never empty.
 *
 * Vnode `p` owns tokens `(tokens[p-1], tokens[p]]`, i.e. `[tokens[p-1] + 1, tokens[p] + 1)`,
 * and vnode 0 also owns everything above the last token.
 */
export function forEachPiece(
  a: VnodeTable,
  b: VnodeTable,
  visit: (start: number, end: number, posA: number, posB: number) => void,
): void {
  let ia = 0;
  let ib = 0;
  let start = 0;
  while (start < TOKEN_SPACE) {
    const endA = ia < a.size ? (a.tokens[ia] as number) + 1 : TOKEN_SPACE;
    const endB = ib < b.size ? (b.tokens[ib] as number) + 1 : TOKEN_SPACE;
    const end = Math.min(endA, endB);
    if (end > start) {
      visit(start, end, ia < a.size ? ia : 0, ib < b.size ? ib : 0);
      start = end;
    }
    if (endA === end) ia++;
    if (endB === end) ib++;
  }
}

/**
 * The token space split into ranges by preference list, in ascending order; adjacent
 * pieces with the same list are merged. Empty for an empty ring.
 */
export function ownedRanges(vnodes: VnodeTable): OwnedRange[] {
  const ranges: OwnedRange[] = [];
  if (vnodes.size === 0) return ranges;
  let last = -1;
  forEachPiece(vnodes, vnodes, (start, end, pos) => {
    const previous = ranges[ranges.length - 1];
    if (previous !== undefined && vnodes.sameList(last, vnodes, pos)) {
      ranges[ranges.length - 1] = { ...previous, end };
    } else {
      ranges.push({ start, end, owners: Object.freeze(vnodes.list(pos, vnodes.width)) });
    }
    last = pos;
  });
  return ranges;
}
