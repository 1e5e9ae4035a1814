import type { Ring } from './ring';
import { TOKEN_SPACE } from './token';

/**
 * The starts of the token ranges on which each of `rings` has one preference list, ascending
 * and without repeats: 0, and every token just past a virtual node of any of them (vnode
 * `p` owns `(tokens[p-1], tokens[p]]`). From one start to the next (the last range ends at
 * `2^48`) every ring places all keys alike, so a caller comparing placements asks each ring
 * once per range, at its start, instead of once per key.
 */
export function commonRangeStarts(rings: readonly Ring[]): number[] {
  let count = 1;
  for (const ring of rings) count += ring.vnodes.size;
  const all = new Float64Array(count);
  let n = 1;
  for (const ring of rings) {
    for (const t of ring.vnodes.tokens) if (t + 1 < TOKEN_SPACE) all[n++] = t + 1;
  }
  const sorted = all.subarray(0, n).sort();
  const starts: number[] = [];
  for (const t of sorted) if (starts[starts.length - 1] !== t) starts.push(t);
  return starts;
}
