import { createHash } from 'node:crypto';
import { token } from '@kv/ring';
import type { RecordVersion, StoredRecord } from './record';

/**
 * How the LMDB engine lays records out: each is stored under its key's token (48 bits,
 * big-endian) followed by the key, so a token range is one cursor walk; the value is the
 * record's version, then its value bytes.
 */

/** Bytes of the token that prefixes every stored key, so keys sort in token order. */
export const TOKEN_BYTES = 6;
/**
 * Longest key stored as it is. LMDB keys are at most 1978 bytes with 4 KiB pages; a longer
 * key is stored as its first bytes plus its SHA-256, and the whole key goes in the value.
 */
const INLINE_KEY_MAX = 1900;
const DIGEST_BYTES = 32;
/** Value layout: ts (float64), expiresAt (48 bits), flags, origin length (16 bits). */
const ORIGIN_AT = 17;
const TOMBSTONE = 1;
/** The value carries the whole key (16-bit length, then the key) after the origin. */
const LONG_KEY = 2;
/** The 48-bit big-endian form of a token: stored keys start with it. */
export function tokenBytes(t: number): Buffer {
  const b = Buffer.allocUnsafe(TOKEN_BYTES);
  b.writeUIntBE(t, 0, TOKEN_BYTES);
  return b;
}

/** Where a key is stored: its token, then the key (long keys shortened, see INLINE_KEY_MAX). */
export function storedKey(key: Buffer): Buffer {
  const long = key.length > INLINE_KEY_MAX;
  const stored = Buffer.allocUnsafe(
    TOKEN_BYTES + (long ? INLINE_KEY_MAX + DIGEST_BYTES : key.length),
  );
  stored.writeUIntBE(token(key), 0, TOKEN_BYTES);
  if (!long) {
    key.copy(stored, TOKEN_BYTES);
    return stored;
  }
  key.copy(stored, TOKEN_BYTES, 0, INLINE_KEY_MAX);
  createHash('sha256')
    .update(key)
    .digest()
    .copy(stored, TOKEN_BYTES + INLINE_KEY_MAX);
  return stored;
}

/**
 * Where keys are stored ({@link storedKey}), the last answer kept: a command asks about its
 * key several times in a row (its token, its version, its write), so the key is hashed
 * once. `k` is the last stored key as a latin1 string (one character per byte).
 */
export class LastStoredKey {
  k = '';
  private key: Buffer | undefined;
  private stored: Buffer = Buffer.alloc(0);

  of(key: Buffer): Buffer {
    if (this.key !== undefined && sameBytes(this.key, key)) return this.stored;
    // A copy: the key may be a view into network input, reused once the request is done.
    this.key = Buffer.from(key);
    this.stored = storedKey(key);
    this.k = this.stored.toString('latin1');
    return this.stored;
  }
}

/**
 * Whether two keys hold the same bytes: for the short keys of most commands a loop here
 * costs less than the call into `Buffer.equals`.
 */
function sameBytes(a: Buffer, b: Buffer): boolean {
  const n = a.length;
  if (n !== b.length) return false;
  if (n > 64) return a.equals(b);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Origins as bytes: a record's origin is a node id, and a cluster has few, so each is
 * encoded once rather than per write. Bounded: past this many, it starts again.
 */
const ORIGINS = new Map<string, Buffer>();
const MAX_ORIGINS = 1024;

function originBytes(origin: string): Buffer {
  let bytes = ORIGINS.get(origin);
  if (bytes === undefined) {
    if (ORIGINS.size >= MAX_ORIGINS) ORIGINS.clear();
    bytes = Buffer.from(origin);
    ORIGINS.set(origin, bytes);
  }
  return bytes;
}

/** The stored value of a record: its version, the whole key when long, then the value. */
export function encode(key: Buffer, record: StoredRecord): Buffer {
  const origin = originBytes(record.origin);
  const long = key.length > INLINE_KEY_MAX;
  const keyAt = ORIGIN_AT + origin.length;
  const valueAt = keyAt + (long ? 2 + key.length : 0);
  const b = Buffer.allocUnsafe(valueAt + (record.value?.length ?? 0));
  b.writeDoubleLE(record.ts, 0);
  b.writeUIntLE(record.expiresAt, 8, 6);
  b[14] = (record.value === null ? TOMBSTONE : 0) | (long ? LONG_KEY : 0);
  b.writeUInt16LE(origin.length, 15);
  origin.copy(b, ORIGIN_AT);
  if (long) {
    b.writeUInt16LE(key.length, keyAt);
    key.copy(b, keyAt + 2);
  }
  record.value?.copy(b, valueAt);
  return b;
}

/** A record from its stored value (the value bytes are a view, not a copy); and its key. */
export function decode(value: Buffer, stored?: Buffer): { key: Buffer; record: StoredRecord } {
  const flags = value[14] as number;
  const originEnd = ORIGIN_AT + value.readUInt16LE(15);
  let valueAt = originEnd;
  let key = stored?.subarray(TOKEN_BYTES) ?? Buffer.alloc(0);
  if (flags & LONG_KEY) {
    const length = value.readUInt16LE(originEnd);
    key = value.subarray(originEnd + 2, originEnd + 2 + length);
    valueAt = originEnd + 2 + length;
  }
  return {
    key,
    record: {
      ts: value.readDoubleLE(0),
      expiresAt: value.readUIntLE(8, 6),
      origin: value.toString('utf8', ORIGIN_AT, originEnd),
      value: flags & TOMBSTONE ? null : value.subarray(valueAt),
    },
  };
}

export function versionOf(record: StoredRecord): RecordVersion {
  return {
    ts: record.ts,
    origin: record.origin,
    expiresAt: record.expiresAt,
    deleted: record.value === null,
  };
}

/** Whether a stored value (see {@link encode}) is a tombstone. */
export function isTombstone(value: Buffer): boolean {
  return ((value[14] as number) & TOMBSTONE) !== 0;
}
