import { TOKEN_SPACE, token, type TokenRange } from '@kv/ring';
import { inRange } from './engine';

/** Slices of the token space the index keeps apart: its top 12 bits. */
const SLICES = 4096;
const SLICE_WIDTH = TOKEN_SPACE / SLICES;

/** A key as the index walks it: as latin1, as bytes, and its token. */
export type IndexedKey = [k: string, key: Buffer, t: number];

/**
 * Keys (latin1 strings, one char per byte) grouped by slice of the token space, so a walk
 * over a token range visits that range's keys alone, in token order. A key's token is
 * computed when it is first indexed and when it is dropped; walks compute the tokens of
 * the slices they visit, to order them.
 */
export class TokenIndex {
  private slices: (Set<string> | undefined)[] = new Array<Set<string> | undefined>(SLICES);

  /** Adds a key not indexed yet: `k` is `key` read as latin1. */
  add(k: string, key: Buffer): void {
    const i = sliceOf(token(key));
    (this.slices[i] ??= new Set()).add(k);
  }

  /** Drops an indexed key: `k` is `key` read as latin1. */
  delete(k: string, key: Buffer): void {
    this.slices[sliceOf(token(key))]?.delete(k);
  }

  clear(): void {
    this.slices = new Array<Set<string> | undefined>(SLICES);
  }

  /**
   * The keys whose tokens lie in `range` (all when omitted), slice by slice, each slice
   * ascending by token then by bytes, with the key's bytes and token. Each slice is read
   * when the walk reaches it, so keys added or removed meanwhile in slices not reached yet
   * are seen as they are then.
   */
  *walk(range?: TokenRange): IterableIterator<IndexedKey[]> {
    if (range && range.end <= range.start) return;
    const first = range ? sliceOf(range.start) : 0;
    const last = range ? sliceOf(range.end - 1) : SLICES - 1;
    for (let i = first; i <= last; i++) {
      const slice = this.slices[i];
      if (!slice || slice.size === 0) continue;
      const keys: IndexedKey[] = [];
      for (const k of slice) {
        const key = Buffer.from(k, 'latin1');
        const t = token(key);
        if (!range || inRange(t, range)) keys.push([k, key, t]);
      }
      keys.sort((a, b) => a[2] - b[2] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      yield keys;
    }
  }
}

function sliceOf(t: number): number {
  return Math.floor(t / SLICE_WIDTH);
}
