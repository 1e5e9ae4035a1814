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
import type { CommandContext } from './command-context';
import { tooLarge, wrongArgs } from './errors';
import { MAX_EXPIRES_AT, isLive, type StoredRecord } from './record';
import { globMatcher } from './scan';

const PONG = new SimpleString('PONG');

function upper(arg: Buffer | undefined): string {
  return arg === undefined ? '' : arg.toString('latin1').toUpperCase();
}

function integerArg(arg: Buffer | undefined, what: string, min = 0): number {
  const text = arg?.toString('latin1') ?? '';
  const n = /^-?\d{1,15}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min)
    throw wrongArgs(`${what} must be an integer ≥ ${min}, got '${text}'`);
  return n;
}

function checkKey(key: Buffer, ctx: CommandContext): void {
  if (key.length > ctx.maxKeyBytes)
    throw tooLarge(`key of ${key.length} bytes exceeds the limit of ${ctx.maxKeyBytes} bytes`);
}

/** Splits `key ... [W n]` / `[R n]`: the trailing consistency option, if present. */
function trailingQuorum(
  args: Buffer[],
  from: number,
  letter: 'W' | 'R',
): { keys: Buffer[]; quorum: number | undefined } {
  const rest = args.slice(from);
  if (rest.length >= 3 && upper(rest[rest.length - 2]) === letter) {
    return { keys: rest.slice(0, -2), quorum: integerArg(rest[rest.length - 1], letter, 1) };
  }
  return { keys: rest, quorum: undefined };
}

function put(args: Buffer[], ctx: CommandContext): Reply | Promise<Reply> {
  const key = args[1] as Buffer;
  const value = args[2] as Buffer;
  checkKey(key, ctx);
  let expiresAt = 0;
  let w: number | undefined;
  for (let i = 3; i < args.length; i += 2) {
    const option = upper(args[i]);
    if (i + 1 >= args.length) throw wrongArgs(`option ${option} needs a value`);
    if (option === 'EX' || option === 'PX') {
      // As Redis: one expiry per command, and none past what a record can carry.
      if (expiresAt !== 0) throw wrongArgs('EX and PX cannot be given together');
      expiresAt =
        option === 'EX'
          ? ctx.now() + integerArg(args[i + 1], 'EX seconds', 1) * 1000
          : ctx.now() + integerArg(args[i + 1], 'PX milliseconds', 1);
      if (!(expiresAt <= MAX_EXPIRES_AT)) throw wrongArgs(`invalid expire time in '${option}'`);
    } else if (option === 'W') w = integerArg(args[i + 1], 'W', 1);
    else
      throw wrongArgs(
        `unsupported option '${args[i]?.toString() ?? ''}' (PUT key value [EX seconds|PX milliseconds] [W n])`,
      );
  }
  ctx.memory.check();
  const done = ctx.quorum.write(key, value, expiresAt, w);
  return done instanceof Promise ? done.then(() => OK) : OK;
}

function get(args: Buffer[], ctx: CommandContext): Reply | Promise<Reply> {
  const { keys, quorum } = trailingQuorum(args, 1, 'R');
  if (keys.length !== 1) throw wrongArgs('GET key [R n]');
  const key = keys[0] as Buffer;
  checkKey(key, ctx);
  const found = ctx.quorum.read(key, quorum);
  const live = (record: StoredRecord | undefined): Reply =>
    isLive(record, ctx.now()) ? record.value : null;
  return found instanceof Promise ? found.then(live) : live(found);
}

/** Most keys one multi-key command may name: each is a quorum operation of its own. */
export const MAX_KEYS_PER_COMMAND = 1024;

function checkKeyCount(keys: readonly Buffer[], command: string): void {
  if (keys.length > MAX_KEYS_PER_COMMAND)
    throw tooLarge(
      `${command} names ${keys.length} keys, at most ${MAX_KEYS_PER_COMMAND} per command: send them in batches`,
    );
}

async function del(args: Buffer[], ctx: CommandContext): Promise<Reply> {
  const { keys, quorum } = trailingQuorum(args, 1, 'W');
  if (keys.length === 0) throw wrongArgs('DELETE key [key ...] [W n]');
  checkKeyCount(keys, 'DELETE');
  keys.forEach((k) => checkKey(k, ctx));
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
  checkKeyCount(keys, 'EXISTS');
  keys.forEach((k) => checkKey(k, ctx));
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
 * SET = PUT, DEL = DELETE), what redis-cli, redis-benchmark and `kv status` ask for, and
 * authentication (AUTH, and the member challenge nodes and operators answer).
 */
export const CLIENT_COMMANDS: CommandTable<CommandContext> = {
  PUT: {
    scope: Scope.client,
    access: Access.write,
    arity: [2, 8],
    usage: 'PUT key value [EX seconds|PX milliseconds] [W n]',
    aliases: ['SET'],
    reply: '`+OK` after W replicas acknowledged',
    errors:
      "`-UNAVAILABLE k of W replicas acknowledged` (answered once every clock is past the failed version: up to 2 × `--max-clock-offset` later), also when the key has fewer replicas than W or this node's clock is fenced (nothing written); `-TIMEOUT` when the request waited past `--write-deadline` (nothing written); `-TOOLARGE` for a key over 4 KiB or a value over 8 MiB (nothing stored); `-OOM` while this node holds more than `--max-memory` (replicas past theirs refuse too, so they do not count towards W); `-WRONGARGS` for an unknown option, a bad TTL (EX and PX together, not an integer ≥ 1, past year 10889) or W outside 1..N",
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
};
