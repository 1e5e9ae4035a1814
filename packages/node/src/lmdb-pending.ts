import type { StoredRecord } from './record';

/** A write not yet in LMDB: what reads see for its key meanwhile. */
export interface Pending {
  /** The stored key, as a latin1 string (one character per byte, so strings sort as bytes). */
  readonly k: string;
  readonly stored: Buffer;
  /** The stored value (record header and value bytes); undefined: the key is removed. */
  readonly value: Buffer | undefined;
  readonly record: StoredRecord | undefined;
}

/**
 * The writes an LMDB engine has accepted and not yet committed, by stored key: reads look
 * here first. Iteration merges them into what LMDB holds in key order, so a key written a
 * moment ago is in every scan, sync and hand-off even before its transaction commits.
 */
export class PendingWrites {
  private readonly byKey = new Map<string, Pending>();
  /** The keys in byte order, built when a range is asked for after a key came or went. */
  private sorted: string[] | undefined;
  private held = 0;

  get size(): number {
    return this.byKey.size;
  }

  /** Bytes of stored keys and values waiting. */
  get bytes(): number {
    return this.held;
  }

  get(k: string): Pending | undefined {
    return this.byKey.get(k);
  }

  /** The latest write of its key, replacing any earlier one. */
  set(write: Pending): void {
    const earlier = this.byKey.get(write.k);
    if (earlier) this.held -= weight(earlier);
    else this.sorted = undefined;
    this.byKey.set(write.k, write);
    this.held += weight(write);
  }

  /** Forgets `write` once it is in LMDB, unless a later write of its key replaced it. */
  settle(write: Pending): void {
    if (this.byKey.get(write.k) !== write) return;
    this.byKey.delete(write.k);
    this.sorted = undefined;
    this.held -= weight(write);
  }

  values(): IterableIterator<Pending> {
    return this.byKey.values();
  }

  clear(): void {
    this.byKey.clear();
    this.sorted = undefined;
    this.held = 0;
  }

  /**
   * The writes whose stored keys lie after `from` (or from the first key if undefined;
   * `from` itself included unless `fromExclusive`) and before `to` (to the last key if
   * undefined; `to` itself included if `toInclusive`), in key order.
   */
  within(
    from: string | undefined,
    fromExclusive: boolean,
    to: string | undefined,
    toInclusive: boolean,
  ): Pending[] {
    if (this.byKey.size === 0) return [];
    const sorted = (this.sorted ??= [...this.byKey.keys()].sort());
    let i = from === undefined ? 0 : firstAtLeast(sorted, from);
    if (fromExclusive && sorted[i] === from) i++;
    const found: Pending[] = [];
    for (; i < sorted.length; i++) {
      const k = sorted[i] as string;
      if (to !== undefined && (k > to || (k === to && !toInclusive))) break;
      const write = this.byKey.get(k);
      if (write) found.push(write);
    }
    return found;
  }
}

function weight(write: Pending): number {
  return write.stored.length + (write.value?.length ?? 0);
}

/** Index of the first of `sorted` not below `k` (its length if none). */
function firstAtLeast(sorted: readonly string[], k: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as string) < k) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
