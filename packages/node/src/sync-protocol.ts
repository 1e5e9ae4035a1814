import { ReplyError, type Reply, type RespValue } from '@kv/protocol';
import { wrongArgs } from './errors';
import type { StoredRecord } from './record';
import { decodeRecord, encodeRecord } from './replication';

/**
 * Node-to-node commands that move data when placement changes. A node pulls what it lacks
 * from a co-owner in three steps, so records that both already hold cost a few bytes:
 *
 * - `SYNC_DIGEST requester epoch` → bulk: a {@link Digest} of the records the answering
 *   node holds whose owners include both nodes;
 * - `SYNC_KEYS requester epoch buckets` → `[next, key, ts, origin, key, ts, origin, ...]`:
 *   key and version of those records in the given buckets (a bitmap), ascending by bucket
 *   and cut at a bucket boundary when long; `next` is the first bucket not included, or
 *   -1 when all were;
 * - `SYNC_GET key [key ...]` → per key, `[ts, origin, expiresAt, value-or-null]` or null.
 *
 * And a node handing records off asks first what their new owners hold:
 * - `SYNC_VERSIONS key [key ...]` → per key, `[ts, origin]` or null.
 *
 * `requester` is the asking node's id and `epoch` the ring epoch both must agree on (a
 * node at another epoch answers `-UNAVAILABLE`): owners are computed from the ring.
 */
export const SyncCommand = {
  digest: 'SYNC_DIGEST',
  keys: 'SYNC_KEYS',
  get: 'SYNC_GET',
  versions: 'SYNC_VERSIONS',
  hints: 'SYNC_HINTS',
} as const;

/** Most key/version entries in one SYNC_KEYS reply (the cut falls at a bucket boundary). */
export const MAX_KEYS_PER_REPLY = 50_000;
/** Most keys in one SYNC_GET or SYNC_VERSIONS request. */
export const MAX_KEYS_PER_REQUEST = 256;

/** A key's version as SYNC_KEYS and SYNC_VERSIONS carry it. */
export interface KeyVersion {
  readonly key: Buffer;
  readonly ts: number;
  readonly origin: string;
}

export function encodeKeyVersions(next: number, entries: readonly KeyVersion[]): Reply {
  const out: Reply[] = [next];
  for (const e of entries) out.push(e.key, e.ts, e.origin);
  return out;
}

export function decodeKeyVersions(reply: RespValue): { next: number; entries: KeyVersion[] } {
  if (!Array.isArray(reply) || typeof reply[0] !== 'number' || (reply.length - 1) % 3 !== 0)
    throw new ReplyError('ERR malformed SYNC_KEYS reply');
  const entries: KeyVersion[] = [];
  for (let i = 1; i < reply.length; i += 3) {
    const key = reply[i];
    const origin = reply[i + 2];
    if (!Buffer.isBuffer(key) || !Buffer.isBuffer(origin))
      throw new ReplyError('ERR malformed SYNC_KEYS reply');
    entries.push({ key, ts: Number(reply[i + 1]), origin: origin.toString() });
  }
  return { next: reply[0], entries };
}

export function encodeVersion(record: StoredRecord | undefined): Reply {
  return record ? [record.ts, record.origin] : null;
}

/** A version as SYNC_VERSIONS carries it. */
export type RecordVersionOf = Pick<StoredRecord, 'ts' | 'origin'>;

export function decodeVersions(reply: RespValue, count: number): (RecordVersionOf | undefined)[] {
  if (!Array.isArray(reply) || reply.length !== count)
    throw new ReplyError('ERR malformed SYNC_VERSIONS reply');
  return reply.map((v) => {
    if (v === null) return undefined;
    if (!Array.isArray(v) || !Buffer.isBuffer(v[1]))
      throw new ReplyError('ERR malformed SYNC_VERSIONS reply');
    return { ts: Number(v[0]), origin: v[1].toString() };
  });
}

export function encodeRecords(records: readonly (StoredRecord | undefined)[]): Reply {
  return records.map(encodeRecord);
}

export function decodeRecords(reply: RespValue, count: number): (StoredRecord | undefined)[] {
  if (!Array.isArray(reply) || reply.length !== count)
    throw new ReplyError('ERR malformed SYNC_GET reply');
  return reply.map(decodeRecord);
}

/** Reads `requester epoch` arguments. */
export function requesterArgs(args: Buffer[]): { requester: string; epoch: number } {
  const requester = args[1]?.toString() ?? '';
  const epochText = args[2]?.toString('latin1') ?? '';
  if (requester === '' || !/^\d{1,15}$/.test(epochText))
    throw wrongArgs('expected requester-id and epoch');
  return { requester, epoch: Number(epochText) };
}
