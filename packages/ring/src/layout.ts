import { Buffer } from 'node:buffer';
import { token } from './token';

/** Virtual nodes of a member of weight `weight`: `round(weight × V)`, halves up, at least 1. */
export function vnodeCount(weight: number, vnodesPerWeight: number): number {
  return Math.max(1, Math.round(weight * vnodesPerWeight));
}

/** Tokens of vnodes `from .. to - 1` of member `id` (vnode i is `token(id + "#" + i)`). */
export function vnodeTokens(id: string, from: number, to: number): Float64Array {
  const tokens = new Float64Array(Math.max(0, to - from));
  const prefix = `${id}#`;
  for (let i = from; i < to; i++) tokens[i - from] = token(prefix + String(i));
  return tokens;
}

/** Orders two member ids as their UTF-8 bytes: the tie-break between equal vnode tokens. */
export function compareIds(a: string, b: string): number {
  return a === b ? 0 : Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * Position of the first token ≥ t in ascending `tokens` (`tokens.length` if none).
 */
export function lowerBound(tokens: Float64Array, t: number): number {
  let lo = 0;
  let hi = tokens.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((tokens[mid] as number) < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Position of the virtual node owning token `t`: the first whose token is ≥ t, wrapping to
 * position 0 past the last. `tokens` must be non-empty.
 */
export function locate(tokens: Float64Array, t: number): number {
  const pos = lowerBound(tokens, t);
  return pos === tokens.length ? 0 : pos;
}
