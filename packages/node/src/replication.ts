import { ReplyError, type CommandArg, type Reply, type RespValue } from '@kv/protocol';
import { wrongArgs } from './errors';
import { MAX_EXPIRES_AT, type StoredRecord } from './record';

/**
 * Node-to-node commands. A record travels whole (key, version, expiry, value or none for
 * a tombstone), so applying it is idempotent and independent of order.
 *
 * - `REPLICATE key ts origin expiresAt [value]` → `[applied, existed, ts, origin]`: 1 if
 *   the record was stored; 1 if the key held a live value before; the version (timestamp
 *   and origin) the replica holds afterwards.
 * - `REPLICATE_BATCH n key ts origin expiresAt hasValue value ...` → an array of n answers:
 *   the records a node sends one replica in one event-loop turn, in one request. Each
 *   record is six arguments (a tombstone has hasValue 0 and an empty value); each answer is
 *   REPLICATE's, or the error refusing that record.
 * - `FETCH key` → null, or `[ts, origin, expiresAt, value-or-null]`; with `ALONE`,
 *   `[alone 0/1, that record]`: whether the holder may answer an R=1 read alone.
 */
export const NodeCommand = {
  replicate: 'REPLICATE',
  replicateBatch: 'REPLICATE_BATCH',
  fetch: 'FETCH',
  replicaMissed: 'REPLICA_MISSED',
} as const;

/**
 * Most records in one REPLICATE_BATCH: 2 + 6 × 512 arguments stay within the argument
 * bound of a node's server (4,096), with room to spare.
 */
export const MAX_BATCH_RECORDS = 512;

/**
 * Bytes of records past which a batch is sent and the next record starts another: a batch
 * stays far below the bytes a server buffers for one request (a record larger than this
 * travels alone).
 */
export const MAX_BATCH_BYTES = 1024 * 1024;

/** Arguments each record takes in a REPLICATE_BATCH. */
const BATCH_FIELDS = 6;

/** A record on its way to (or arrived at) a replica, with its key. */
export interface KeyedRecord {
  readonly key: Buffer;
  readonly record: StoredRecord;
}

/** FETCH's flag for an R=1 read: the reply also says whether the copy may lack writes. */
export const FETCH_ALONE = 'ALONE';

/** What a replica did with a replicated record. */
export interface ApplyResult {
  /** The record was newer than what the replica held, and is stored. */
  readonly applied: boolean;
  /** The key held a live (not deleted, not expired) value before. */
  readonly existed: boolean;
  /** Timestamp of the version the replica holds afterwards. */
  readonly ts: number;
  /** Origin of the version the replica holds afterwards. */
  readonly origin: string;
}

/**
 * True if a replica's answer acknowledges `record`: it stored it, or already held exactly
 * that version. A replica holding another record with the same timestamp (another origin)
 * did not store this write, so that answer is not an acknowledgement.
 */
export function acknowledges(result: ApplyResult, record: StoredRecord): boolean {
  return result.applied || (result.ts === record.ts && result.origin === record.origin);
}

/** The arguments of a REPLICATE command carrying `record`. */
export function replicateArgs(key: Buffer, record: StoredRecord): CommandArg[] {
  const args: CommandArg[] = [
    NodeCommand.replicate,
    key,
    record.ts,
    record.origin,
    record.expiresAt,
  ];
  if (record.value !== null) args.push(record.value);
  return args;
}

/** The arguments of a REPLICATE_BATCH command carrying `entries` (1 to {@link MAX_BATCH_RECORDS}). */
export function replicateBatchArgs(entries: readonly KeyedRecord[]): CommandArg[] {
  const args: CommandArg[] = new Array(2 + BATCH_FIELDS * entries.length);
  args[0] = NodeCommand.replicateBatch;
  args[1] = entries.length;
  let i = 2;
  for (const { key, record } of entries) {
    args[i++] = key;
    args[i++] = record.ts;
    args[i++] = record.origin;
    args[i++] = record.expiresAt;
    args[i++] = record.value === null ? 0 : 1;
    args[i++] = record.value ?? EMPTY;
  }
  return args;
}

const EMPTY = Buffer.alloc(0);

function parseCount(arg: Buffer | undefined, what: string, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(arg?.toString('latin1'));
  if (!Number.isSafeInteger(n) || n < 0 || n > max)
    throw wrongArgs(`${what} must be an integer from 0 to ${max}`);
  return n;
}

/** Reads a REPLICATE command back into a key and a record (the value still a view). */
export function parseReplicate(args: Buffer[]): { key: Buffer; record: StoredRecord } {
  if (args.length !== 5 && args.length !== 6)
    throw wrongArgs('REPLICATE takes key ts origin expiresAt [value]');
  const record: StoredRecord = {
    ts: parseCount(args[2], 'ts'),
    origin: (args[3] as Buffer).toString(),
    expiresAt: parseCount(args[4], 'expiresAt', MAX_EXPIRES_AT),
    value: args[5] ?? null,
  };
  return { key: args[1] as Buffer, record };
}

/**
 * Reads a REPLICATE_BATCH command back into its records (keys and values still views).
 * @throws ReplyError `WRONGARGS` for a count that does not match the arguments, or a field
 *   that does not parse: the whole batch is refused, nothing of it applied
 */
export function parseReplicateBatch(args: Buffer[]): KeyedRecord[] {
  const n = parseCount(args[1], 'REPLICATE_BATCH record count', MAX_BATCH_RECORDS);
  if (n === 0 || args.length !== 2 + BATCH_FIELDS * n)
    throw wrongArgs(
      `REPLICATE_BATCH takes n (1 to ${MAX_BATCH_RECORDS}) then n × (key ts origin expiresAt hasValue value): ${args.length - 2} arguments follow a count of ${n}`,
    );
  const entries: KeyedRecord[] = new Array(n);
  for (let r = 0, i = 2; r < n; r++, i += BATCH_FIELDS) {
    const hasValue = (args[i + 4] as Buffer).toString('latin1');
    const value = args[i + 5] as Buffer;
    if (hasValue !== '1' && !(hasValue === '0' && value.length === 0))
      throw wrongArgs(
        `record ${r + 1} of REPLICATE_BATCH: hasValue must be 1, or 0 with an empty value`,
      );
    entries[r] = {
      key: args[i] as Buffer,
      record: {
        ts: parseCount(args[i + 1], 'ts'),
        origin: (args[i + 2] as Buffer).toString(),
        expiresAt: parseCount(args[i + 3], 'expiresAt', MAX_EXPIRES_AT),
        value: hasValue === '1' ? value : null,
      },
    };
  }
  return entries;
}

export function encodeApplyResult(result: ApplyResult): Reply {
  return [result.applied ? 1 : 0, result.existed ? 1 : 0, result.ts, result.origin];
}

export function decodeApplyResult(reply: RespValue): ApplyResult {
  if (!Array.isArray(reply) || reply.length !== 4 || !Buffer.isBuffer(reply[3]))
    throw new ReplyError('ERR malformed REPLICATE reply');
  return {
    applied: reply[0] === 1,
    existed: reply[1] === 1,
    ts: Number(reply[2]),
    origin: reply[3].toString(),
  };
}

/**
 * REPLICATE_BATCH's reply decoded: per record, in order, what the replica holds afterwards
 * or the error that refused it.
 * @throws ReplyError for a reply that is not an array of `n` answers
 */
export function decodeBatchReply(reply: RespValue, n: number): (ApplyResult | ReplyError)[] {
  if (!Array.isArray(reply) || reply.length !== n)
    throw new ReplyError(`ERR malformed REPLICATE_BATCH reply: expected ${n} answers`);
  return reply.map((answer) => (answer instanceof ReplyError ? answer : decodeApplyResult(answer)));
}

/** FETCH's reply for a record (or its absence). */
export function encodeRecord(record: StoredRecord | undefined): Reply {
  if (!record) return null;
  return [record.ts, record.origin, record.expiresAt, record.value];
}

function isCount(n: RespValue | undefined): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

/** A copy asked for an R=1 read, and whether its holder may answer that read alone. */
export interface AloneAnswer {
  /** False when the holder's copy may lack writes (fenced, cut off, paused, syncing the range). */
  readonly alone: boolean;
  readonly record: StoredRecord | undefined;
}

/** FETCH ... ALONE's reply: `[alone 0/1, record]`. */
export function encodeAloneAnswer(alone: boolean, record: StoredRecord | undefined): Reply {
  return [alone ? 1 : 0, encodeRecord(record)];
}

export function decodeAloneAnswer(reply: RespValue): AloneAnswer {
  if (!Array.isArray(reply) || reply.length !== 2 || (reply[0] !== 0 && reply[0] !== 1))
    throw new ReplyError('ERR malformed FETCH ALONE reply');
  return { alone: reply[0] === 1, record: decodeRecord(reply[1] as RespValue) };
}

export function decodeRecord(reply: RespValue): StoredRecord | undefined {
  if (reply === null) return undefined;
  if (!Array.isArray(reply) || reply.length !== 4 || !Buffer.isBuffer(reply[1])) {
    throw new ReplyError('ERR malformed FETCH reply');
  }
  const [ts, , expiresAt, value] = reply;
  // Checked here so nothing downstream (clock, store, a client's answer) sees a version
  // or an expiry that is not an exact integer.
  if (!isCount(ts) || !isCount(expiresAt) || expiresAt > MAX_EXPIRES_AT)
    throw new ReplyError('ERR malformed FETCH reply: ts and expiresAt must be integers');
  return {
    ts,
    origin: reply[1].toString(),
    expiresAt,
    value: Buffer.isBuffer(value) ? Buffer.from(value) : null,
  };
}
