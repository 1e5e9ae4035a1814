import { TOKEN_BITS, type TokenRange } from '@kv/ring';
import type { StoredRecord } from './record';

/** Buckets a digest splits the token space into. */
export const DIGEST_BUCKETS = 1024;
const BUCKET_SHIFT = 2 ** (TOKEN_BITS - Math.log2(DIGEST_BUCKETS));
const BYTES_PER_BUCKET = 12;

/** The digest bucket of a token: its top 10 bits. */
export function bucketOf(t: number): number {
  return Math.floor(t / BUCKET_SHIFT);
}

/** The token range of a digest bucket: the tokens whose top 10 bits are `bucket`. */
export function bucketRange(bucket: number): TokenRange {
  return { start: bucket * BUCKET_SHIFT, end: (bucket + 1) * BUCKET_SHIFT };
}

/** FNV-1a over `bytes`, continuing from `h`. */
function fnv(h: number, bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ (bytes[i] as number), 0x01000193);
  return h >>> 0;
}

/** Mixes a 32-bit word into a hash (the murmur3 finaliser steps). */
function mix(h: number, word: number): number {
  h = Math.imul(h ^ word, 0x85ebca6b);
  h ^= h >>> 13;
  return Math.imul(h, 0xc2b2ae35) >>> 0;
}

const originHashes = new Map<string, number>();

function originHash(origin: string): number {
  let h = originHashes.get(origin);
  if (h === undefined) {
    h = fnv(0x811c9dc5, Buffer.from(origin));
    // Node ids are few; the bound only guards against misuse.
    if (originHashes.size < 65_536) originHashes.set(origin, h);
  }
  return h;
}

/**
 * Two independent 32-bit hashes of a key and its version (not its value: a version names
 * exactly one write). Equal records hash equal on every node.
 */
export function versionHash(
  key: Uint8Array,
  record: Pick<StoredRecord, 'ts' | 'origin'>,
): [number, number] {
  const low = record.ts >>> 0;
  const high = Math.floor(record.ts / 2 ** 32) >>> 0;
  const o = originHash(record.origin);
  const k = fnv(0x811c9dc5, key);
  return [mix(mix(mix(k, low), high), o), mix(mix(mix(k ^ 0x5bd1e995, o), low ^ 0x9e3779b9), high)];
}

/**
 * A summary of many records, per bucket of the token space: how many, and the XOR of their
 * version hashes. XOR makes it independent of order, so two nodes holding the same
 * versions of the same keys compute the same digest, and comparing digests (12 KiB) finds
 * the buckets where they differ without sending any record.
 */
export class Digest {
  private readonly data = new Uint32Array(DIGEST_BUCKETS * 3);

  /** Adds one record. */
  add(t: number, key: Uint8Array, record: Pick<StoredRecord, 'ts' | 'origin'>): void {
    const i = bucketOf(t) * 3;
    const [a, b] = versionHash(key, record);
    const d = this.data;
    d[i] = (d[i] as number) + 1;
    d[i + 1] = (d[i + 1] as number) ^ a;
    d[i + 2] = (d[i + 2] as number) ^ b;
  }

  /** Records added. */
  get count(): number {
    let n = 0;
    for (let i = 0; i < this.data.length; i += 3) n += this.data[i] as number;
    return n;
  }

  /** The buckets in which this digest and `other` differ, ascending. */
  differingBuckets(other: Digest): number[] {
    const out: number[] = [];
    for (let b = 0; b < DIGEST_BUCKETS; b++) {
      const i = b * 3;
      if (
        this.data[i] !== other.data[i] ||
        this.data[i + 1] !== other.data[i + 1] ||
        this.data[i + 2] !== other.data[i + 2]
      )
        out.push(b);
    }
    return out;
  }

  /** The wire form: 12 bytes per bucket (count, hash, hash), little-endian. */
  encode(): Buffer {
    const out = Buffer.allocUnsafe(DIGEST_BUCKETS * BYTES_PER_BUCKET);
    for (let i = 0; i < this.data.length; i++) out.writeUInt32LE(this.data[i] as number, i * 4);
    return out;
  }

  /** Reads the wire form; undefined when it has the wrong length. */
  static decode(bytes: Buffer): Digest | undefined {
    if (bytes.length !== DIGEST_BUCKETS * BYTES_PER_BUCKET) return undefined;
    const digest = new Digest();
    for (let i = 0; i < digest.data.length; i++) digest.data[i] = bytes.readUInt32LE(i * 4);
    return digest;
  }
}

/** A set of buckets as a bitmap (128 bytes for 1024 buckets), for requests. */
export function encodeBuckets(buckets: readonly number[]): Buffer {
  const out = Buffer.alloc(DIGEST_BUCKETS / 8);
  for (const b of buckets) out[b >> 3] = (out[b >> 3] as number) | (1 << (b & 7));
  return out;
}

/** Reads a bucket bitmap into a membership test; undefined when malformed. */
export function decodeBuckets(bytes: Buffer): ((bucket: number) => boolean) | undefined {
  if (bytes.length !== DIGEST_BUCKETS / 8) return undefined;
  const copy = Buffer.from(bytes);
  return (b) => ((copy[b >> 3] as number) & (1 << (b & 7))) !== 0;
}
