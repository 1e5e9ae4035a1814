import {
  Access,
  ErrorCode,
  OK,
  ReplyError,
  Scope,
  quoteArg,
  type CommandTable,
  type Reply,
} from '@kv/protocol';
import { checkKeys } from './command-args';
import type { CommandContext } from './command-context';
import { wrongArgs } from './errors';
import { isLive } from './record';

/** Failed keys an error names before it only counts the rest: the message stays short. */
const NAMED_FAILURES = 8;

/**
 * The error of a multi-key command some of whose keys failed: the code of the first
 * failure, how many keys succeeded, and the failed keys with their reasons.
 */
function partialFailure(
  keys: readonly Buffer[],
  results: readonly PromiseSettledResult<unknown>[],
  done: string,
  outcome: string,
): ReplyError | undefined {
  const failed: string[] = [];
  let code: string | undefined;
  results.forEach((result, i) => {
    if (result.status === 'fulfilled') return;
    const reason: unknown = result.reason;
    const message = reason instanceof Error ? reason.message : String(reason);
    code ??= reason instanceof ReplyError ? reason.code : ErrorCode.ERR;
    if (failed.length < NAMED_FAILURES) failed.push(`${quoteArg(keys[i] as Buffer)} (${message})`);
  });
  if (code === undefined) return undefined;
  const failures = results.length - results.filter((r) => r.status === 'fulfilled').length;
  const more = failures > failed.length ? ` and ${failures - failed.length} more` : '';
  return new ReplyError(
    `${code} ${done} ${results.length - failures} of ${results.length} keys; failed: ${failed.join(', ')}${more}${outcome}`,
  );
}

/*
 * MGET and MSET take no quorum option: every argument is a key (or a value), as in Redis.
 * A trailing `R n` / `W n` could not be told from a key named R or W (MSET's pairs stay
 * pairs with it), so a write of a key named W would be taken for an option and dropped.
 * Per-request quorums go through GET and PUT.
 */

async function mget(args: Buffer[], ctx: CommandContext): Promise<Reply> {
  const keys = args.slice(1);
  checkKeys(keys, 'MGET', ctx);
  // Every key a quorum read of its own, all at once; the answer waits for all of them.
  // A key that could not be read fails the whole command rather than show as null, which
  // would say it does not exist; reads change nothing, so the whole command can be retried.
  const results = await Promise.allSettled(keys.map(async (key) => await ctx.quorum.read(key)));
  const failure = partialFailure(keys, results, 'MGET read', ': nothing is answered, retry');
  if (failure) throw failure;
  const now = ctx.now();
  return results.map((r) => {
    const record = r.status === 'fulfilled' ? r.value : undefined;
    return isLive(record, now) ? record.value : null;
  });
}

async function mset(args: Buffer[], ctx: CommandContext): Promise<Reply> {
  const pairs = args.slice(1);
  if (pairs.length % 2 !== 0)
    throw wrongArgs('MSET key value [key value ...]: every key needs a value');
  const keys = pairs.filter((_, i) => i % 2 === 0);
  checkKeys(keys, 'MSET', ctx);
  ctx.memory.check();
  // Each key is written on its own replicas with its own quorum, all at once; the answer
  // waits for every write, so a failure names every key that failed.
  const results = await Promise.allSettled(
    keys.map(async (key, i) => await ctx.quorum.write(key, pairs[2 * i + 1] as Buffer, 0)),
  );
  const failure = partialFailure(
    keys,
    results,
    'MSET wrote',
    ': the keys written stay written (MSET is not atomic), a failed one may stand on the replicas that acknowledged it',
  );
  if (failure) throw failure;
  return OK;
}

/**
 * Commands on several keys at once: each key is read or written on its own replicas with
 * its own quorum, in parallel, wherever its owners are.
 */
export const MULTI_KEY_COMMANDS: CommandTable<CommandContext> = {
  MGET: {
    scope: Scope.client,
    access: Access.read,
    arity: [1, Infinity],
    usage: 'MGET key [key ...]',
    reply:
      "array: per key, its value or null bulk if missing, deleted or expired; each key is a quorum read of its own (the node's read quorum), all in parallel; every argument is a key (for another R, use GET key R n)",
    errors:
      "`-UNAVAILABLE MGET read k of n keys; failed: 'key' (reason), ...: nothing is answered, retry` when any key's read fails (the code is the first failure's): null means missing, so a key that could not be read fails the whole command; `-TOOLARGE` for more than 1,024 keys",
    run: mget,
  },
  MSET: {
    scope: Scope.client,
    access: Access.write,
    arity: [2, Infinity],
    usage: 'MSET key value [key value ...]',
    reply:
      "`+OK` once every key was written: each is a quorum write of its own (the node's write quorum), all in parallel; not atomic (another client may read some keys new and others old meanwhile); every argument is a key or a value (for another W, use PUT key value W n)",
    errors:
      "`-UNAVAILABLE MSET wrote k of n keys; failed: 'key' (reason), ...` when any key's write fails (the code is the first failure's): the keys written stay written; `-WRONGARGS` for a key without a value; `-TOOLARGE` for more than 1,024 keys; `-OOM` as PUT (nothing written)",
    run: mset,
  },
};
