import { TOKEN_SPACE, token, type TokenRange } from '@kv/ring';
import { inRange, type EngineEntry, type EngineVersion, type StorageEngine } from './engine';
import type { RecordVersion, StoredRecord } from './record';

/** Bytes of a packed record's version: ts as a float64, expiry as 48 bits, origin, flags. */
const VERSION_BYTES = 18;
/** Where the key's token (48 bits) sits in a packed record. */
const TOKEN_AT = 18;
/** Bytes of a packed record before its value: the version, then the key's token. */
const HEADER = 24;
const TOMBSTONE = 1;
/** Bytes charged per record on top of its key and packed record, for the INFO memory estimate. */
const RECORD_OVERHEAD = 64;
/** Slices of the token space the key index keeps apart: its top 12 bits. */
const SLICES = 4096;
const SLICE_WIDTH = TOKEN_SPACE / SLICES;

/** A key in a slice being walked: as latin1, its packed record, its token. */
type Indexed = [k: string, packed: string, t: number];

/**
 * Keeps every record in one Map from the key's bytes (read as latin1, one char per byte, so
 * any byte string maps to a distinct JS string) to the record packed into a second latin1
 * string: header, then the value. A one-byte string costs 16 bytes plus its length, where a
 * record object, a boxed timestamp and a Buffer would cost some 170 bytes more per key, so
 * a node holds about twice as many keys in the same memory. Origins (node ids, a handful
 * per cluster) are stored once, in a table. Records are unpacked on read.
 *
 * Token order comes from an index of the keys by slice of the token space; the header
 * carries the key's token (hashed once, when the key first arrives), so a walk orders a
 * slice without hashing.
 */
export class MemoryEngine implements StorageEngine {
  private readonly map = new Map<string, string>();
  private slices = new Array<Set<string> | undefined>(SLICES);
  private readonly origins: string[] = [];
  private readonly originIndex = new Map<string, number>();
  private heldBytes = 0;
  private tombstoneCount = 0;
  /** Scratch space for packing; records are copied out of it into strings. */
  private scratch = Buffer.allocUnsafe(4096);
  /** Reads a packed version without copying the value. */
  private readonly header = new DataView(new ArrayBuffer(VERSION_BYTES));
  /** The key last made a string: a request asks for its token, then peeks, puts or gets it. */
  private lastK = '';

  get size(): number {
    return this.map.size;
  }

  get tombstones(): number {
    return this.tombstoneCount;
  }

  get bytes(): number {
    return this.heldBytes;
  }

  get(key: Buffer): StoredRecord | undefined {
    const packed = this.map.get(this.keyString(key));
    return packed === undefined ? undefined : this.unpack(packed);
  }

  peek(key: Buffer): RecordVersion | undefined {
    const packed = this.map.get(this.keyString(key));
    return packed === undefined ? undefined : this.versionOf(packed);
  }

  tokenOf(key: Buffer): number | undefined {
    const packed = this.map.get(this.keyString(key));
    return packed === undefined ? undefined : tokenOf(packed);
  }

  put(key: Buffer, record: StoredRecord, knownToken?: number): void {
    const k = this.keyString(key);
    const old = this.map.get(k);
    let t: number;
    if (old === undefined) {
      t = knownToken ?? token(key);
      (this.slices[sliceOf(t)] ??= new Set()).add(k);
    } else {
      t = tokenOf(old);
      this.forget(k, old);
    }
    const packed = this.pack(record, t);
    this.map.set(k, packed);
    this.heldBytes += k.length + packed.length + RECORD_OVERHEAD;
    if (record.value === null) this.tombstoneCount++;
  }

  remove(key: Buffer): void {
    const k = key.toString('latin1');
    const old = this.map.get(k);
    if (old === undefined) return;
    this.forget(k, old);
    this.map.delete(k);
    this.slices[sliceOf(tokenOf(old))]?.delete(k);
  }

  *versions(range?: TokenRange): IterableIterator<EngineVersion> {
    for (const slice of this.walk(range))
      for (const [k, packed, t] of slice)
        yield [Buffer.from(k, 'latin1'), this.versionOf(packed), t];
  }

  *entries(range?: TokenRange): IterableIterator<EngineEntry> {
    for (const slice of this.walk(range))
      for (const [k, packed, t] of slice) yield [Buffer.from(k, 'latin1'), this.unpack(packed), t];
  }

  close(): void {
    this.map.clear();
    this.slices = new Array<Set<string> | undefined>(SLICES);
    this.heldBytes = 0;
    this.tombstoneCount = 0;
  }

  /**
   * The records in `range` (all when omitted), slice by slice, each ascending by token then
   * by key bytes. A slice is read when the walk reaches it, so SCAN's long-lived iterators
   * see keys added or removed meanwhile in slices not reached yet.
   */
  private *walk(range?: TokenRange): IterableIterator<Indexed[]> {
    if (range && range.end <= range.start) return;
    const first = range ? sliceOf(range.start) : 0;
    const last = range ? sliceOf(range.end - 1) : SLICES - 1;
    for (let i = first; i <= last; i++) {
      const slice = this.slices[i];
      if (!slice || slice.size === 0) continue;
      const records: Indexed[] = [];
      for (const k of slice) {
        const packed = this.map.get(k) as string;
        const t = tokenOf(packed);
        if (!range || inRange(t, range)) records.push([k, packed, t]);
      }
      records.sort((a, b) => a[2] - b[2] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      yield records;
    }
  }

  /**
   * `key` as latin1: the string made last time when it holds the same bytes (compared, not
   * kept: no reference to the caller's Buffer outlives the call).
   */
  private keyString(key: Buffer): string {
    const last = this.lastK;
    if (key.length === last.length) {
      let i = 0;
      while (i < key.length && key[i] === last.charCodeAt(i)) i++;
      if (i === key.length) return last;
    }
    const k = key.toString('latin1');
    this.lastK = k;
    return k;
  }

  private versionOf(packed: string): RecordVersion {
    const h = this.header;
    for (let i = 0; i < VERSION_BYTES; i++) h.setUint8(i, packed.charCodeAt(i));
    return {
      ts: h.getFloat64(0, true),
      expiresAt: h.getUint32(8, true) + h.getUint16(12, true) * 2 ** 32,
      origin: this.origins[h.getUint16(14, true)] as string,
      deleted: (h.getUint8(16) & TOMBSTONE) !== 0,
    };
  }

  /** Takes the accounting of a key's current record back. */
  private forget(k: string, old: string): void {
    this.heldBytes -= k.length + old.length + RECORD_OVERHEAD;
    if (old.charCodeAt(16) & TOMBSTONE) this.tombstoneCount--;
  }

  private pack(record: StoredRecord, t: number): string {
    const length = HEADER + (record.value?.length ?? 0);
    if (this.scratch.length < length) this.scratch = Buffer.allocUnsafe(length * 2);
    const b = this.scratch;
    b.writeDoubleLE(record.ts, 0);
    b.writeUIntLE(record.expiresAt, 8, 6);
    b.writeUInt16LE(this.originOf(record.origin), 14);
    b[16] = record.value === null ? TOMBSTONE : 0;
    b[17] = 0;
    b.writeUIntLE(t, TOKEN_AT, 6);
    record.value?.copy(b, HEADER);
    return b.toString('latin1', 0, length);
  }

  private unpack(packed: string): StoredRecord {
    const b = Buffer.from(packed, 'latin1');
    return {
      ts: b.readDoubleLE(0),
      expiresAt: b.readUIntLE(8, 6),
      origin: this.origins[b.readUInt16LE(14)] as string,
      value: (b[16] as number) & TOMBSTONE ? null : b.subarray(HEADER),
    };
  }

  private originOf(origin: string): number {
    let i = this.originIndex.get(origin);
    if (i === undefined) {
      // Node ids, one per node that ever coordinated a write: 65,536 is far beyond any cluster.
      if (this.origins.length >= 0xffff) throw new RangeError('too many distinct origins');
      i = this.origins.length;
      this.origins.push(origin);
      this.originIndex.set(origin, i);
    }
    return i;
  }
}

/** The key's token, from its packed record's header. */
function tokenOf(packed: string): number {
  const low =
    packed.charCodeAt(TOKEN_AT) |
    (packed.charCodeAt(TOKEN_AT + 1) << 8) |
    (packed.charCodeAt(TOKEN_AT + 2) << 16);
  const high =
    packed.charCodeAt(TOKEN_AT + 3) |
    (packed.charCodeAt(TOKEN_AT + 4) << 8) |
    (packed.charCodeAt(TOKEN_AT + 5) << 16);
  return low + high * 2 ** 24;
}

function sliceOf(t: number): number {
  return Math.floor(t / SLICE_WIDTH);
}
