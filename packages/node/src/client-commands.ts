import {
  Access,
  AUTH_COMMANDS,
  ErrorCode,
  OK,
  ReplyError,
  Scope,
  SimpleString,
  timeReply,
  type CommandTable,
  type Reply,
} from '@kv/protocol';
import { encodeRingReply } from '@kv/ring';
import { checkKey, checkKeys, integerArg, trailingQuorum, upper } from './command-args';
import type { CommandContext } from './command-context';
import { wrongArgs } from './errors';
import { EXPIRY_COMMANDS } from './expiry-commands';
import { MULTI_KEY_COMMANDS } from './multi-key-commands';
import { parsePutOptions, type PutOptions } from './put-options';
import { isLive, type StoredRecord } from './record';
import { REFUSED_COMMANDS } from './refused-commands';
import { globMatcher } from './scan';

const PONG = new SimpleString('PONG');

function put(args: Buffer[], ctx: CommandContext): Reply | Promise<Reply> {
  const key = args[1] as Buffer;
  const value = args[2] as Buffer;
  checkKey(key, ctx);
  const options = parsePutOptions(args, ctx);
  ctx.memory.check();
  if (options.condition !== undefined || options.keepTtl)
    return conditionalPut(key, value, options, ctx);
  const done = ctx.quorum.write(key, value, options.expiresAt, options.w);
  return done instanceof Promise ? done.then(() => OK) : OK;
}

/**
 * PUT with NX, XX or KEEPTTL: a quorum read (overlapping acknowledged writes), then the
 * write. Two steps, not one atomic one across replicas: two concurrent SET NX may both
 * find the key free and both write (the later version wins), as may two sides of a
 * partition. Null, as Redis answers, when the condition does not hold.
 */
async function conditionalPut(
  key: Buffer,
  value: Buffer,
  { condition, keepTtl, expiresAt, w }: PutOptions,
  ctx: CommandContext,
): Promise<Reply> {
  const current = await ctx.quorum.readForWrite(key, w);
  const live = isLive(current, ctx.now());
  if ((condition === 'NX' && live) || (condition === 'XX' && !live)) return null;
  await ctx.quorum.write(key, value, keepTtl && live ? current.expiresAt : expiresAt, w);
  return OK;
}

function get(args: Buffer[], ctx: CommandContext): Reply | Promise<Reply> {
  let key: Buffer;
  let quorum: number | undefined;
  if (args.length === 2) {
    key = args[1] as Buffer;
  } else {
    const { keys, quorum: r } = trailingQuorum(args, 1, 'R');
    if (keys.length !== 1) throw wrongArgs('GET key [R n]');
    key = keys[0] as Buffer;
    quorum = r;
  }
  checkKey(key, ctx);
  const found = ctx.quorum.read(key, quorum);
  return found instanceof Promise
    ? found.then((record) => liveValue(record, ctx))
    : liveValue(found, ctx);
}

/** The value of `record` if it is live; the clock is read only for a record that expires. */
function liveValue(record: StoredRecord | undefined, ctx: CommandContext): Buffer | null {
  if (record === undefined || record.value === null) return null;
  return record.expiresAt === 0 || record.expiresAt > ctx.now() ? record.value : null;
}

async function del(args: Buffer[], ctx: CommandContext): Promise<Reply> {
  const { keys, quorum } = trailingQuorum(args, 1, 'W');
  if (keys.length === 0) throw wrongArgs('DELETE key [key ...] [W n]');
  checkKeys(keys, 'DELETE', ctx);
  // Every key's write settles before the answer: a failure is reported only once the
  // other keys' writes (and their failure waits) are over.
  const results = await Promise.allSettled(
    keys.map(async (k) => await ctx.quorum.write(k, null, 0, quorum)),
  );
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.filter((r) => r.status === 'fulfilled' && r.value.existed).length;
}

async function exists(args: Buffer[], ctx: CommandContext): Promise<Reply> {
  const { keys, quorum } = trailingQuorum(args, 1, 'R');
  if (keys.length === 0) throw wrongArgs('EXISTS key [key ...] [R n]');
  checkKeys(keys, 'EXISTS', ctx);
  const records = await Promise.all(keys.map(async (k) => await ctx.quorum.read(k, quorum)));
  const now = ctx.now();
  return records.filter((r) => isLive(r, now)).length;
}

function config(args: Buffer[], ctx: CommandContext): Reply {
  if (upper(args[1]) !== 'GET') throw wrongArgs('only CONFIG GET parameter is supported');
  const values = ctx.config();
  const out: string[] = [];
  for (const pattern of args.slice(2)) {
    const matches = matcher(Buffer.from(pattern.toString().toLowerCase()));
    for (const [name, value] of Object.entries(values))
      if (matches(Buffer.from(name))) out.push(name, value);
  }
  return out;
}

function matcher(pattern: Buffer): (key: Buffer) => boolean {
  try {
    return globMatcher(pattern.toString('latin1'));
  } catch {
    throw wrongArgs(`invalid pattern '${pattern.toString()}'`);
  }
}

function scan(args: Buffer[], ctx: CommandContext): Reply {
  const cursor = args[1]?.toString('latin1') ?? '';
  if (!/^\d{1,15}$/.test(cursor)) throw wrongArgs(`invalid cursor '${cursor}'`);
  let count = 10;
  let match: ((key: Buffer) => boolean) | undefined;
  for (let i = 2; i < args.length; i += 2) {
    const option = upper(args[i]);
    if (i + 1 >= args.length) throw wrongArgs(`option ${option} needs a value`);
    if (option === 'COUNT') count = integerArg(args[i + 1], 'COUNT', 1);
    else if (option === 'MATCH') match = matcher(args[i + 1] as Buffer);
    else
      throw wrongArgs(`unsupported option '${option}' (SCAN cursor [MATCH pattern] [COUNT count])`);
  }
  try {
    const [next, keys] = ctx.scans.step(cursor, Math.min(count, 100_000), match);
    return [next, keys];
  } catch (err) {
    if (err instanceof RangeError) throw new ReplyError(`${ErrorCode.ERR} ${err.message}`);
    throw err;
  }
}

/**
 * The commands clients send a node: the spec's reads and writes (Redis names are aliases:
 * SET = PUT, DEL = DELETE), the multi-key and expiry commands of Redis, what redis-cli,
 * redis-benchmark and `kv status` ask for, authentication (AUTH, and the member challenge
 * nodes and operators answer), and the Redis commands kv refuses, with the reason.
 */
export const CLIENT_COMMANDS: CommandTable<CommandContext> = {
  PUT: {
    scope: Scope.client,
    access: Access.write,
    arity: [2, 8],
    usage: 'PUT key value [EX seconds|PX milliseconds|KEEPTTL] [NX|XX] [W n]',
    aliases: ['SET'],
    reply:
      '`+OK` after W replicas acknowledged. With NX (only if the key holds no value), XX (only if it does) or KEEPTTL (keep its expiry), a quorum read comes first and a condition that does not hold answers null bulk, as Redis; the read and the write are two steps, not one atomic step across replicas: two concurrent SET NX can both succeed, and so can both sides of a partition (the later version wins)',
    errors:
      "`-UNAVAILABLE k of W replicas acknowledged`, followed by `(host:port refused: why)` when a replica refused (answered once every clock is past the failed version: up to 2 × `--max-clock-offset` later), also when the key has fewer replicas than W or this node's clock is fenced (nothing written); with NX/XX/KEEPTTL also `-UNAVAILABLE k of R replicas answered` (nothing written); `-TIMEOUT` when the request waited past `--write-deadline` (nothing written); `-TOOLARGE` for a key over 4 KiB or a value over 8 MiB (nothing stored); `-OOM` while this node holds more than `--max-memory` (replicas past theirs refuse too, so they do not count towards W); `-WRONGARGS` for an unknown option, GET (refused: not atomic under last-writer-wins), NX with XX, a bad TTL (EX, PX and KEEPTTL together, not an integer ≥ 1, past year 10889) or W outside 1..N",
    run: put,
  },
  GET: {
    scope: Scope.client,
    access: Access.read,
    arity: [1, 3],
    usage: 'GET key [R n]',
    reply: 'bulk value, or null bulk if missing, deleted or expired',
    errors: '`-UNAVAILABLE 0 of 1 replicas answered` (R=1) / `k of R replicas answered`',
    run: get,
  },
  DELETE: {
    scope: Scope.client,
    access: Access.write,
    arity: [1, Infinity],
    usage: 'DELETE key [key ...] [W n]',
    aliases: ['DEL'],
    reply: 'integer: keys that held a value',
    errors: 'as PUT; `-TOOLARGE` for more than 1,024 keys',
    run: del,
  },
  EXISTS: {
    scope: Scope.client,
    access: Access.read,
    arity: [1, Infinity],
    usage: 'EXISTS key [key ...] [R n]',
    reply: 'integer: keys that hold a value',
    errors: 'as GET; `-TOOLARGE` for more than 1,024 keys',
    run: exists,
  },
  ...MULTI_KEY_COMMANDS,
  ...EXPIRY_COMMANDS,
  PING: {
    scope: Scope.client,
    access: Access.open,
    arity: [0, 1],
    usage: 'PING [message]',
    reply: '`+PONG`, or the message',
    run: (args) => args[1] ?? PONG,
  },
  TIME: {
    scope: Scope.client,
    access: Access.read,
    arity: [0, 0],
    usage: 'TIME',
    reply:
      "`[unix seconds, microseconds]` of this node's wall clock, as Redis answers; members measure each other's clocks with it",
    run: (_args, ctx) => timeReply(ctx.now()),
  },
  ECHO: {
    scope: Scope.client,
    access: Access.read,
    arity: [1, 1],
    usage: 'ECHO message',
    reply: 'the message',
    run: (args) => args[1] as Buffer,
  },
  INFO: {
    scope: Scope.client,
    access: Access.read,
    arity: [0, Infinity],
    usage: 'INFO [section ...]',
    reply:
      'bulk text, sections `Server`, `Clients`, `Memory`, `Stats`, `Replication`, `Rebalance`, `Persistence` (engine, data directory, fsync mode), `Keyspace` as `key:value` lines',
    run: (args, ctx) => ctx.info(args.slice(1).map((a) => a.toString().toLowerCase())),
  },
  DBSIZE: {
    scope: Scope.client,
    access: Access.read,
    arity: [0, 0],
    usage: 'DBSIZE',
    reply:
      'integer: keys held by this node itself, not counting deleted ones (an expired key counts until purged, as in Redis)',
    // As in Redis, a key that expired counts until it is purged: O(1), not a scan.
    run: (_args, ctx) => ctx.store.size - ctx.store.tombstones,
  },
  SCAN: {
    scope: Scope.client,
    access: Access.read,
    arity: [1, 5],
    usage: 'SCAN cursor [MATCH pattern] [COUNT count]',
    reply:
      "`[next cursor, [key, ...]]` over this node's own live keys; cursor `0` starts, `0` back means done",
    errors:
      '`-ERR unknown or expired cursor N: start again from 0` (cursors idle 60 s are forgotten, at most 64 kept); `-WRONGARGS` for a bad cursor, COUNT or pattern',
    run: scan,
  },
  // The node's view of the ring, in the coordinator's reply shape: clients that cannot
  // reach the coordinator learn ring changes from the nodes they talk to.
  RING: {
    scope: Scope.client,
    access: Access.read,
    arity: [0, 1],
    usage: 'RING [known-epoch]',
    reply: "the ring this node routes with, in the coordinator's `RING` shape",
    errors: '`-UNAVAILABLE this node has no ring yet`',
    run: (args, ctx) => {
      const known = args[1] === undefined ? undefined : integerArg(args[1], 'known-epoch', -1);
      const view = ctx.ring();
      if (view === undefined)
        throw new ReplyError(`${ErrorCode.UNAVAILABLE} this node has no ring yet`);
      return encodeRingReply({ epoch: view.epoch, read: view.json, target: view.target }, known);
    },
  },
  SELECT: {
    scope: Scope.client,
    access: Access.read,
    arity: [1, 1],
    usage: 'SELECT 0',
    reply: '`+OK` for 0',
    errors: '`-ERR DB index is out of range` otherwise',
    run: (args) =>
      args[1]?.toString() === '0'
        ? OK
        : new ReplyError(`${ErrorCode.ERR} DB index is out of range: kv has only database 0`),
  },
  // redis-cli and redis-benchmark ask for this when they start; nothing here is invented.
  CONFIG: {
    scope: Scope.client,
    access: Access.read,
    arity: [2, Infinity],
    usage: 'CONFIG GET parameter',
    reply:
      'flat array of name, value (`save`, `appendonly`, `databases`, `proto-max-bulk-len`, `kv-*`)',
    errors: '`-WRONGARGS` for another subcommand or a bad pattern',
    run: config,
  },
  QUIT: {
    scope: Scope.client,
    access: Access.open,
    arity: [0, 0],
    usage: 'QUIT',
    reply: '`+OK`, then the connection closes',
    run: (_args, _ctx, connection) => {
      connection.close();
      return OK;
    },
  },
  ...AUTH_COMMANDS,
  ...REFUSED_COMMANDS,
};
