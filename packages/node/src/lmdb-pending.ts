import type { EngineEntry } from './engine';
import { TOKEN_BYTES, decode } from './lmdb-records';
import type { StoredRecord } from './record';

/** A write not yet in LMDB: what reads see for its key meanwhile. */
export interface Pending {
  /** The stored key, as a latin1 string (one character per byte, so strings sort as bytes). */
  readonly k: string;
  readonly stored: Buffer;
  /** The stored value (record header and value bytes); undefined: the key is removed. */
  readonly value: Buffer | undefined;
  readonly record: StoredRecord | undefined;
  /** Without a log: the commit of this write, once it is under way. */
  committed: Promise<void> | undefined;
}

/**
 * The writes an LMDB engine has accepted and not yet committed, by stored key: reads look
 * here first. Iteration merges them into what LMDB holds in key order, so a key written a
 * moment ago is in every scan, sync and hand-off even before its transaction commits.
 */
export class PendingWrites {
  private readonly byKey = new Map<string, Pending>();
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
    this.byKey.set(write.k, write);
    this.held += weight(write);
  }

  /** Forgets `write` once it is in LMDB, unless a later write of its key replaced it. */
  settle(write: Pending): void {
    if (this.byKey.get(write.k) !== write) return;
    this.byKey.delete(write.k);
    this.held -= weight(write);
  }

  values(): IterableIterator<Pending> {
    return this.byKey.values();
  }

  clear(): void {
    this.byKey.clear();
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
    // One pass over the pending writes, sorting only those in the stretch: a page of an
    // iteration covers a sliver of the keys, and writes come and go between pages, so a
    // sorted index of them all would be rebuilt at every page.
    const found: Pending[] = [];
    for (const write of this.byKey.values()) {
      const k = write.k;
      if (from !== undefined && (k < from || (k === from && fromExclusive))) continue;
      if (to !== undefined && (k > to || (k === to && !toInclusive))) continue;
      found.push(write);
    }
    return found.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
  }
}

function weight(write: Pending): number {
  return write.stored.length + (write.value?.length ?? 0);
}

/** A pending write as iteration yields it (nothing for a removal). */
export function* pendingEntry(write: Pending): IterableIterator<EngineEntry> {
  if (!write.record || !write.value) return;
  yield [
    decode(write.value, write.stored).key,
    write.record,
    write.stored.readUIntBE(0, TOKEN_BYTES),
  ];
}
