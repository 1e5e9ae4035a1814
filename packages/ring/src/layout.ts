import type { Member } from './member';
import { token } from './token';

/** The virtual nodes of a ring in clockwise order. */
export interface Layout {
  /** Token of each virtual node, ascending. */
  readonly tokens: Float64Array;
  /** Index (in the sorted member list) of the member owning each virtual node. */
  readonly owners: Uint32Array;
}

/** Virtual nodes of a member of weight `weight`: `round(weight × V)`, halves up, at least 1. */
export function vnodeCount(weight: number, vnodesPerWeight: number): number {
  return Math.max(1, Math.round(weight * vnodesPerWeight));
}

/**
 * Places every member's virtual nodes (`token(id + "#" + i)`) on the ring. `members` must be
 * sorted by id as UTF-8 bytes: vnodes are generated in (member, index) order, so a stable
 * tie-break on generation order is the documented tie-break on (id bytes, index).
 */
export function layOut(members: readonly Member[], vnodesPerWeight: number): Layout {
  const counts = members.map((m) => vnodeCount(m.weight, vnodesPerWeight));
  const total = counts.reduce((a, b) => a + b, 0);
  const unsorted = new Float64Array(total);
  const memberOf = new Uint32Array(total);
  let v = 0;
  members.forEach((member, m) => {
    const prefix = `${member.id}#`;
    const count = counts[m] ?? 0;
    for (let i = 0; i < count; i++, v++) {
      unsorted[v] = token(prefix + String(i));
      memberOf[v] = m;
    }
  });
  const order = new Uint32Array(total);
  for (let i = 0; i < total; i++) order[i] = i;
  order.sort((a, b) => (unsorted[a] ?? 0) - (unsorted[b] ?? 0) || a - b);
  const tokens = new Float64Array(total);
  const owners = new Uint32Array(total);
  for (let i = 0; i < total; i++) {
    const from = order[i] ?? 0;
    tokens[i] = unsorted[from] ?? 0;
    owners[i] = memberOf[from] ?? 0;
  }
  return { tokens, owners };
}

/**
 * Position of the virtual node owning token `t`: the first whose token is ≥ t, wrapping to
 * position 0 past the last. `tokens` must be non-empty.
 */
export function locate(tokens: Float64Array, t: number): number {
  let lo = 0;
  let hi = tokens.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((tokens[mid] as number) < t) lo = mid + 1;
    else hi = mid;
  }
  return lo === tokens.length ? 0 : lo;
}
