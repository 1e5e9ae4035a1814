import { Access, Scope, type CommandTable, type Reply } from '@kv/protocol';
import { checkKey, integerArg, trailingQuorum, upper } from './command-args';
import type { CommandContext } from './command-context';
import { wrongArgs } from './errors';
import { MAX_EXPIRES_AT, isLive, type StoredRecord } from './record';

/** What TTL and PTTL answer for a key that does not exist (or has expired), as Redis. */
const MISSING = -2;
/** What TTL and PTTL answer for a key without an expiry, as Redis. */
const NO_EXPIRY = -1;

/** Remaining time of `record` at `now`, in milliseconds, or {@link MISSING} / {@link NO_EXPIRY}. */
function remainingMs(record: StoredRecord | undefined, now: number): number {
  if (!isLive(record, now)) return MISSING;
  return record.expiresAt === 0 ? NO_EXPIRY : record.expiresAt - now;
}

function ttlCommand(unitMs: 1 | 1000) {
  return (args: Buffer[], ctx: CommandContext): Reply | Promise<Reply> => {
    const { keys, quorum } = trailingQuorum(args, 1, 'R');
    const name = unitMs === 1 ? 'PTTL' : 'TTL';
    if (keys.length !== 1) throw wrongArgs(`${name} key [R n]`);
    const key = keys[0] as Buffer;
    checkKey(key, ctx);
    const answer = (record: StoredRecord | undefined): number => {
      const ms = remainingMs(record, ctx.now());
      // Redis rounds TTL's seconds to the nearest: 1,500 ms left is 2, 400 ms is 0.
      return ms < 0 || unitMs === 1 ? ms : Math.floor((ms + 500) / 1000);
    };
    const found = ctx.quorum.read(key, quorum);
    return found instanceof Promise ? found.then(answer) : answer(found);
  };
}

/** EXPIRE's conditions on the expiry a key has (Redis 7's). */
const CONDITIONS = ['NX', 'XX', 'GT', 'LT'] as const;
type Condition = (typeof CONDITIONS)[number];

/**
 * Whether a new expiry `next` may replace `current` (0: none) under `condition`. As Redis,
 * a key without an expiry counts as one that never expires: GT never sets it, LT always does.
 */
function allows(condition: Condition, current: number, next: number): boolean {
  switch (condition) {
    case 'NX':
      return current === 0;
    case 'XX':
      return current !== 0;
    case 'GT':
      return current !== 0 && next > current;
    case 'LT':
      return current === 0 || next < current;
  }
}

/** `[NX|XX|GT|LT ...] [W n]` after EXPIRE's timeout, combined as Redis allows them. */
function expireOptions(
  args: Buffer[],
  usage: string,
): { conditions: Condition[]; w: number | undefined } {
  const conditions = new Set<Condition>();
  let w: number | undefined;
  for (let i = 3; i < args.length; i++) {
    const option = upper(args[i]);
    if (option === 'W') {
      if (i + 1 >= args.length) throw wrongArgs('option W needs a value');
      w = integerArg(args[++i], 'W', 1);
    } else if ((CONDITIONS as readonly string[]).includes(option))
      conditions.add(option as Condition);
    else throw wrongArgs(`unsupported option '${args[i]?.toString() ?? ''}' (${usage})`);
  }
  if (conditions.has('NX') && conditions.size > 1)
    throw wrongArgs('NX and XX, GT or LT options at the same time are not compatible');
  if (conditions.has('GT') && conditions.has('LT'))
    throw wrongArgs('GT and LT options at the same time are not compatible');
  return { conditions: [...conditions], w };
}

/**
 * Reads the key (with a quorum that overlaps acknowledged writes), then writes the value it
 * read back with `expiresAt` (0: none; in the past: a delete) as a new version, if the key
 * holds a value and `wanted` allows it. 1 if written, else 0.
 *
 * No memory check: rewriting a value with another expiry does not make a node hold more
 * (Redis allows EXPIRE past maxmemory too).
 */
async function rewriteExpiry(
  ctx: CommandContext,
  key: Buffer,
  w: number | undefined,
  wanted: (current: number) => boolean,
  expiresAt: number,
): Promise<number> {
  const record = await ctx.quorum.readForWrite(key, w);
  const now = ctx.now();
  if (!isLive(record, now) || !wanted(record.expiresAt)) return 0;
  // As Redis: a timeout already past deletes the key.
  if (expiresAt !== 0 && expiresAt <= now) await ctx.quorum.write(key, null, 0, w);
  else await ctx.quorum.write(key, record.value, expiresAt, w);
  return 1;
}

function expireCommand(unitMs: 1 | 1000) {
  const name = unitMs === 1 ? 'PEXPIRE' : 'EXPIRE';
  const unit = unitMs === 1 ? 'milliseconds' : 'seconds';
  const usage = `${name} key ${unit} [NX|XX|GT|LT] [W n]`;
  return (args: Buffer[], ctx: CommandContext): Promise<Reply> => {
    const key = args[1] as Buffer;
    checkKey(key, ctx);
    const timeout = integerArg(args[2], unit, -Infinity);
    const { conditions, w } = expireOptions(args, usage);
    // Checked before anything is read, as Redis checks it: every record must carry its expiry.
    const expiresAt = ctx.now() + timeout * unitMs;
    if (!(expiresAt <= MAX_EXPIRES_AT) || !Number.isSafeInteger(expiresAt))
      throw wrongArgs(
        `invalid expire time in '${name}': past what a record can carry (year 10889)`,
      );
    // A time at or before the epoch would read as "no expiry": any past time deletes alike.
    const at = Math.max(expiresAt, 1);
    const wanted = (current: number): boolean =>
      conditions.every((condition) => allows(condition, current, at));
    return rewriteExpiry(ctx, key, w, wanted, at);
  };
}

function persist(args: Buffer[], ctx: CommandContext): Promise<Reply> {
  const { keys, quorum } = trailingQuorum(args, 1, 'W');
  if (keys.length !== 1) throw wrongArgs('PERSIST key [W n]');
  const key = keys[0] as Buffer;
  checkKey(key, ctx);
  return rewriteExpiry(ctx, key, quorum, (current) => current !== 0, 0);
}

const READ_THEN_WRITE =
  'a quorum read, then a quorum write of the value read with the new expiry (a new version): a write to the key concurrent with it may be overwritten by that copy, as with any two concurrent writes; sequential use is exact';

const EXPIRE_ERRORS =
  '`-WRONGARGS` for a timeout that is not an integer, past year 10889, or of more than 15 digits, an unknown option, NX with XX/GT/LT, GT with LT, or W outside 1..N; `-UNAVAILABLE` as GET (nothing written) or as PUT';

/**
 * Commands on keys' expiry: TTL and PTTL read it; EXPIRE, PEXPIRE and PERSIST change it by
 * reading the key and writing its value back with the new expiry.
 */
export const EXPIRY_COMMANDS: CommandTable<CommandContext> = {
  TTL: {
    scope: Scope.client,
    access: Access.read,
    arity: [1, 3],
    usage: 'TTL key [R n]',
    reply:
      'integer: seconds left (rounded to the nearest, as Redis), `-1` for a key without expiry, `-2` for a missing, deleted or expired key',
    errors: 'as GET',
    run: ttlCommand(1000),
  },
  PTTL: {
    scope: Scope.client,
    access: Access.read,
    arity: [1, 3],
    usage: 'PTTL key [R n]',
    reply: 'integer: milliseconds left, `-1` for a key without expiry, `-2` for a missing one',
    errors: 'as GET',
    run: ttlCommand(1),
  },
  EXPIRE: {
    scope: Scope.client,
    access: Access.write,
    arity: [2, 6],
    usage: 'EXPIRE key seconds [NX|XX|GT|LT] [W n]',
    reply: `\`1\` if the expiry was set (a timeout ≤ 0 deletes the key, as Redis), \`0\` if the key does not exist or the condition does not hold (NX: it has no expiry; XX: it has one; GT/LT: the new one is later/earlier, no expiry counting as infinite). It is ${READ_THEN_WRITE}`,
    errors: EXPIRE_ERRORS,
    run: expireCommand(1000),
  },
  PEXPIRE: {
    scope: Scope.client,
    access: Access.write,
    arity: [2, 6],
    usage: 'PEXPIRE key milliseconds [NX|XX|GT|LT] [W n]',
    reply: 'as EXPIRE, in milliseconds',
    errors: EXPIRE_ERRORS,
    run: expireCommand(1),
  },
  PERSIST: {
    scope: Scope.client,
    access: Access.write,
    arity: [1, 3],
    usage: 'PERSIST key [W n]',
    reply: `\`1\` if the key's expiry was removed, \`0\` if the key does not exist or has no expiry; as EXPIRE, ${READ_THEN_WRITE}`,
    errors: '`-UNAVAILABLE` as EXPIRE; `-WRONGARGS` for W outside 1..N',
    run: persist,
  },
};
