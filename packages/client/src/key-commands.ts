import { ReplyError, type CommandArg, type RespValue } from '@kv/protocol';
import { InvalidClientOptionError, PartialWriteError, type KeysFailure } from './errors';
import { keyText, type Key, type Routed } from './key-router';
import type { Entry } from './key-results';
import {
  checkCount,
  type DeleteOptions,
  type GetOptions,
  type PutOptions,
  type RequestOptions,
  type WriteOptions,
} from './options';

/** A value as the client takes it: text (UTF-8) or bytes. */
export type Value = string | Buffer;

function byteLength(data: Value): number {
  return typeof data === 'string' ? Buffer.byteLength(data) : data.length;
}

/** What the key commands need of the client they serve. */
export interface KeyCommandClient {
  /** `keys` in batches for one node each (see {@link batchByPrimary}). */
  batches(keys: readonly Key[], bytesOf?: (position: number) => number): Promise<number[][]>;
  execute(command: string, key: Key, args: CommandArg[], options: RequestOptions): Promise<Routed>;
  get(key: Key, options: GetOptions): Promise<Buffer | null>;
  put(key: Key, value: Value, options: PutOptions): Promise<void>;
}

/** `PUT` for {@link KvClient.put} and, with a condition, {@link KvClient.putIf}. */
export async function write(
  client: KeyCommandClient,
  key: Key,
  value: Value,
  options: PutOptions,
  condition?: 'NX' | 'XX',
): Promise<RespValue> {
  checkCount(options.ttlMs, 'ttlMs', 1);
  checkCount(options.writeQuorum, 'writeQuorum', 1);
  if (options.keepTtl && options.ttlMs !== undefined)
    throw new InvalidClientOptionError('keepTtl and ttlMs cannot be given together');
  const args: CommandArg[] = ['PUT', key, value];
  if (options.ttlMs !== undefined) args.push('PX', String(options.ttlMs));
  if (options.keepTtl) args.push('KEEPTTL');
  if (condition) args.push(condition);
  if (options.writeQuorum !== undefined) args.push('W', String(options.writeQuorum));
  return (await client.execute('PUT', key, args, options)).reply;
}

/** `GET` for {@link KvClient.getEntry}. */
export async function getEntry(
  client: KeyCommandClient,
  key: Key,
  options: GetOptions,
): Promise<Entry> {
  checkCount(options.readQuorum, 'readQuorum', 1);
  const args: CommandArg[] = ['GET', key];
  if (options.readQuorum !== undefined) args.push('R', String(options.readQuorum));
  const { reply, node, primary } = await client.execute('GET', key, args, options);
  if (reply !== null && !Buffer.isBuffer(reply))
    throw new ReplyError(`ERR unexpected reply to GET from ${node}`);
  return { value: reply, node, primary, fromReplica: node !== primary };
}

/** `DELETE` for {@link KvClient.delete}. */
export async function del(
  client: KeyCommandClient,
  key: Key,
  options: DeleteOptions,
): Promise<boolean> {
  checkCount(options.writeQuorum, 'writeQuorum', 1);
  const args: CommandArg[] = ['DELETE', key];
  if (options.writeQuorum !== undefined) args.push('W', String(options.writeQuorum));
  const { reply } = await client.execute('DELETE', key, args, options);
  return typeof reply === 'number' && reply > 0;
}

/** `EXISTS` for {@link KvClient.exists}. */
export async function exists(
  client: KeyCommandClient,
  key: Key,
  options: GetOptions,
): Promise<boolean> {
  checkCount(options.readQuorum, 'readQuorum', 1);
  const args: CommandArg[] = ['EXISTS', key];
  if (options.readQuorum !== undefined) args.push('R', String(options.readQuorum));
  const { reply } = await client.execute('EXISTS', key, args, options);
  return typeof reply === 'number' && reply > 0;
}

/** `PTTL` for {@link KvClient.ttl}. */
export async function ttl(
  client: KeyCommandClient,
  key: Key,
  options: GetOptions,
): Promise<number | null> {
  checkCount(options.readQuorum, 'readQuorum', 1);
  const args: CommandArg[] = ['PTTL', key];
  if (options.readQuorum !== undefined) args.push('R', String(options.readQuorum));
  const { reply } = await client.execute('PTTL', key, args, options);
  if (typeof reply !== 'number') throw new ReplyError('ERR unexpected reply to PTTL');
  if (reply === -2) return null;
  return reply === -1 ? Infinity : reply;
}

/** `PEXPIRE` or `PERSIST` (`args`) for {@link KvClient.expire} and {@link KvClient.persist}. */
export async function changeExpiry(
  client: KeyCommandClient,
  key: Key,
  args: CommandArg[],
  options: WriteOptions,
): Promise<boolean> {
  checkCount(options.writeQuorum, 'writeQuorum', 1);
  if (options.writeQuorum !== undefined) args.push('W', String(options.writeQuorum));
  const { reply } = await client.execute(String(args[0]), key, args, options);
  return reply === 1;
}

/** `MGET` for {@link KvClient.mget}: one request per primary node, all at once. */
export async function mget(
  client: KeyCommandClient,
  keys: readonly Key[],
  options: GetOptions,
): Promise<(Buffer | null)[]> {
  // MGET takes every argument for a key: another read quorum goes through GET, per key.
  if (options.readQuorum !== undefined)
    return Promise.all(keys.map(async (key) => await client.get(key, options)));
  const values: (Buffer | null)[] = new Array<Buffer | null>(keys.length).fill(null);
  const batches = await client.batches(keys);
  await Promise.all(
    batches.map(async (batch) => {
      const args: CommandArg[] = ['MGET', ...batch.map((i) => keys[i] as Key)];
      const { reply, node } = await client.execute(
        'MGET',
        keys[batch[0] as number] as Key,
        args,
        options,
      );
      if (!Array.isArray(reply) || reply.length !== batch.length)
        throw new ReplyError(`ERR unexpected reply to MGET from ${node}`);
      batch.forEach((position, j) => {
        const value = reply[j];
        values[position] = Buffer.isBuffer(value) ? value : null;
      });
    }),
  );
  return values;
}

/** `MSET` for {@link KvClient.mset}: one request per primary node, all at once. */
export async function mset(
  client: KeyCommandClient,
  entries: Iterable<readonly [Key, Value]>,
  options: WriteOptions,
): Promise<void> {
  const pairs = [...entries];
  if (pairs.length === 0) return;
  // MSET takes every argument for a key or a value: another write quorum goes through
  // PUT, per key (a trailing `W n` would be a key named W).
  const batches =
    options.writeQuorum === undefined
      ? await client.batches(
          pairs.map(([key]) => key),
          (i) =>
            byteLength((pairs[i] as [Key, Value])[0]) + byteLength((pairs[i] as [Key, Value])[1]),
        )
      : pairs.map((_, i) => [i]);
  const results = await Promise.allSettled(
    batches.map(async (batch) => {
      const first = pairs[batch[0] as number] as [Key, Value];
      if (options.writeQuorum !== undefined) return client.put(first[0], first[1], options);
      const args: CommandArg[] = ['MSET', ...batch.flatMap((i) => pairs[i] as [Key, Value])];
      await client.execute('MSET', first[0], args, options);
    }),
  );
  const failures: KeysFailure[] = [];
  let written = 0;
  results.forEach((result, b) => {
    const batch = batches[b] as number[];
    if (result.status === 'fulfilled') written += batch.length;
    else
      failures.push({
        keys: batch.map((i) => keyText((pairs[i] as [Key, Value])[0])),
        error: result.reason as Error,
      });
  });
  if (failures.length > 0) throw new PartialWriteError('MSET', written, failures);
}
