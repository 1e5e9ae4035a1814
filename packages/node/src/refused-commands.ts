import { Access, ErrorCode, ReplyError, Scope, type CommandTable } from '@kv/protocol';
import type { CommandContext } from './command-context';

/**
 * Why kv cannot run a command safely, and what to do instead. Each of these changes a
 * value based on the value before, which needs an atomic read-modify-write: under
 * last-writer-wins replication two concurrent ones would both read the same value and
 * one result would be lost.
 */
const COUNTER =
  'a counter needs an atomic read-modify-write, which last-writer-wins replication cannot give (two concurrent increments would lose one); compute the value in one writer and SET it, or keep one key per writer and add them up when reading';
const IN_PLACE =
  'changing part of a value needs an atomic read-modify-write, which last-writer-wins replication cannot give (two concurrent changes would lose one); GET, change and SET the whole value from one writer';
const SWAP =
  'it returns the old value and replaces it as one atomic step, which last-writer-wins replication cannot give (two concurrent calls could both get the same old value); use GET, then SET or DEL, where that race is acceptable';
const ALL_OR_NONE =
  'it sets all keys or none as one atomic step, which kv cannot give: each key is replicated on its own; use SET key value NX per key';

const REASONS: Readonly<Record<string, string>> = {
  INCR: COUNTER,
  DECR: COUNTER,
  INCRBY: COUNTER,
  DECRBY: COUNTER,
  INCRBYFLOAT: COUNTER,
  APPEND: IN_PLACE,
  SETRANGE: IN_PLACE,
  GETSET: SWAP,
  GETDEL: SWAP,
  MSETNX: ALL_OR_NONE,
};

/**
 * Redis commands kv refuses because last-writer-wins replication cannot run them safely.
 * They are declared (not left to `unknown command`) so the refusal says why, and the
 * protocol reference lists them.
 */
export const REFUSED_COMMANDS: CommandTable<CommandContext> = Object.fromEntries(
  Object.entries(REASONS).map(([name, reason]) => [
    name,
    {
      scope: Scope.client,
      // They would write: a read-only user is refused for that before the reason is given.
      access: Access.write,
      arity: [0, Infinity],
      usage: `${name} ...`,
      reply: 'none: always refused, with the reason (see errors)',
      errors: `\`-ERR ${name} is not supported: ${reason}\``,
      run: () => {
        throw new ReplyError(`${ErrorCode.ERR} ${name} is not supported: ${reason}`);
      },
    },
  ]),
);
