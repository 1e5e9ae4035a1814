import type { TokenRange } from '@kv/ring';
import type { EngineEntry, EngineVersion, StorageEngine } from './engine';
import type { RecordVersion, StoredRecord } from './record';
import { TokenIndex } from './token-index';

/**
 * Bytes of a packed record before its value: ts as a float64, expiry as 48 bits, the origin
 * as an index into the engine's origin table, and flags.
 */
const HEADER = 18;
const TOMBSTONE = 1;
/** Bytes charged per record on top of its key and packed record, for the INFO memory estimate. */
const RECORD_OVERHEAD = 64;

/**
 * Keeps every record in one Map from the key's bytes (read as latin1, one char per byte, so
 * any byte string maps to a distinct JS string) to the record packed into a second latin1
 * string: header, then the value. A one-byte string costs 16 bytes plus its length, where a
 * record object, a boxed timestamp and a Buffer would cost some 170 bytes more per key, so
 * a node holds about twice as many keys in the same memory. Origins (node ids, a handful
 * per cluster) are stored once, in a table. Records are unpacked on read. A
 * {@link TokenIndex} beside the map gives iteration its token order.
 */
export class MemoryEngine implements StorageEngine {
  private readonly map = new Map<string, string>();
  private readonly index = new TokenIndex();
  private readonly origins: string[] = [];
  private readonly originIndex = new Map<string, number>();
  private heldBytes = 0;
  private tombstoneCount = 0;
  /** Scratch space for packing; records are copied out of it into strings. */
  private scratch = Buffer.allocUnsafe(4096);
  /** Reads a packed header without copying the value. */
  private readonly header = new DataView(new ArrayBuffer(HEADER));

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
    const packed = this.map.get(key.toString('latin1'));
    return packed === undefined ? undefined : this.unpack(packed);
  }

  peek(key: Buffer): RecordVersion | undefined {
    const packed = this.map.get(key.toString('latin1'));
    return packed === undefined ? undefined : this.versionOf(packed);
  }

  *versions(range?: TokenRange): IterableIterator<EngineVersion> {
    for (const slice of this.index.walk(range)) {
      for (const [k, key, t] of slice) {
        const packed = this.map.get(k);
        if (packed !== undefined) yield [key, this.versionOf(packed), t];
      }
    }
  }

  private versionOf(packed: string): RecordVersion {
    const h = this.header;
    for (let i = 0; i < HEADER; i++) h.setUint8(i, packed.charCodeAt(i));
    return {
      ts: h.getFloat64(0, true),
      expiresAt: h.getUint32(8, true) + h.getUint16(12, true) * 2 ** 32,
      origin: this.origins[h.getUint16(14, true)] as string,
      deleted: (h.getUint8(16) & TOMBSTONE) !== 0,
    };
  }

  put(key: Buffer, record: StoredRecord): void {
    const k = key.toString('latin1');
    if (!this.forget(k)) this.index.add(k, key);
    const packed = this.pack(record);
    this.map.set(k, packed);
    this.heldBytes += k.length + packed.length + RECORD_OVERHEAD;
    if (record.value === null) this.tombstoneCount++;
  }

  remove(key: Buffer): void {
    const k = key.toString('latin1');
    if (!this.forget(k)) return;
    this.map.delete(k);
    this.index.delete(k, key);
  }

  *entries(range?: TokenRange): IterableIterator<EngineEntry> {
    for (const slice of this.index.walk(range)) {
      for (const [k, key, t] of slice) {
        const packed = this.map.get(k);
        if (packed !== undefined) yield [key, this.unpack(packed), t];
      }
    }
  }

  close(): void {
    this.map.clear();
    this.index.clear();
    this.heldBytes = 0;
    this.tombstoneCount = 0;
  }

  /** Takes the accounting of a key's current record back; true if there was one. */
  private forget(k: string): boolean {
    const old = this.map.get(k);
    if (old === undefined) return false;
    this.heldBytes -= k.length + old.length + RECORD_OVERHEAD;
    if (old.charCodeAt(16) & TOMBSTONE) this.tombstoneCount--;
    return true;
  }

  private pack(record: StoredRecord): string {
    const length = HEADER + (record.value?.length ?? 0);
    if (this.scratch.length < length) this.scratch = Buffer.allocUnsafe(length * 2);
    const b = this.scratch;
    b.writeDoubleLE(record.ts, 0);
    b.writeUIntLE(record.expiresAt, 8, 6);
    b.writeUInt16LE(this.originOf(record.origin), 14);
    b[16] = record.value === null ? TOMBSTONE : 0;
    b[17] = 0;
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
