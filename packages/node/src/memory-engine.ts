import { token, type TokenRange } from '@kv/ring';
import { inRange, type StorageEngine } from './engine';
import type { StoredRecord } from './record';

/** Bytes charged per record on top of its key and value, for the INFO memory estimate. */
const RECORD_OVERHEAD = 64;

/**
 * Keeps records in a Map keyed by the key's bytes read as latin1 (one char per byte, so
 * any byte string maps to a distinct JS string). Values are stored as copies, never as
 * views into network buffers.
 */
export class MemoryEngine implements StorageEngine {
  private readonly map = new Map<string, StoredRecord>();
  private heldBytes = 0;

  get size(): number {
    return this.map.size;
  }

  get bytes(): number {
    return this.heldBytes;
  }

  get(key: Buffer): StoredRecord | undefined {
    return this.map.get(key.toString('latin1'));
  }

  put(key: Buffer, record: StoredRecord): void {
    const k = key.toString('latin1');
    const old = this.map.get(k);
    if (old) this.heldBytes -= k.length + (old.value?.length ?? 0) + RECORD_OVERHEAD;
    this.map.set(k, record);
    this.heldBytes += k.length + (record.value?.length ?? 0) + RECORD_OVERHEAD;
  }

  remove(key: Buffer): void {
    const k = key.toString('latin1');
    const old = this.map.get(k);
    if (!old) return;
    this.map.delete(k);
    this.heldBytes -= k.length + (old.value?.length ?? 0) + RECORD_OVERHEAD;
  }

  *entries(range?: TokenRange): IterableIterator<[Buffer, StoredRecord]> {
    for (const [k, record] of this.map) {
      const key = Buffer.from(k, 'latin1');
      if (range && !inRange(token(key), range)) continue;
      yield [key, record];
    }
  }

  close(): void {
    this.map.clear();
    this.heldBytes = 0;
  }
}
