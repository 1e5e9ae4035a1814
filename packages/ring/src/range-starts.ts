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
  // Each ring's tokens are sorted already: merging them is linear, where sorting them all
  // together took over a second for a few rings of a thousand members.
  const lists = [...new Set(rings)].map((r) => r.vnodes.tokens).filter((t) => t.length > 0);
  const at = lists.map(() => 0);
  const starts: number[] = [0];
  for (;;) {
    let next = Infinity;
    lists.forEach((tokens, i) => {
      const t = tokens[at[i] as number];
      if (t !== undefined && t < next) next = t;
    });
    if (next === Infinity) return starts;
    lists.forEach((tokens, i) => {
      let p = at[i] as number;
      while (tokens[p] === next) p++;
      at[i] = p;
    });
    if (next + 1 < TOKEN_SPACE) starts.push(next + 1);
  }
}
