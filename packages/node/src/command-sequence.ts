import type { Reply, ServerConnection } from '@kv/protocol';

/** Set in a connection's `locals` while a command that reads, then writes, runs on it. */
const TAIL = 'readThenWriteTail';

/** Whether `arg` spells `upper` (upper case, ASCII) in any case, without making a string. */
function is(arg: Buffer | undefined, upper: string): boolean {
  if (arg === undefined || arg.length !== upper.length) return false;
  for (let i = 0; i < upper.length; i++)
    if (((arg[i] as number) & 0xdf) !== upper.charCodeAt(i)) return false;
  return true;
}

/**
 * Whether `args` is a command that reads the key, then writes what it read decided: EXPIRE,
 * PEXPIRE, PERSIST, and PUT/SET with NX, XX or KEEPTTL. Its write is stamped only once its
 * read came back, later than a command pipelined after it that was dispatched meanwhile.
 * Checked on every command, so it compares bytes and makes no string.
 */
export function readsThenWrites(args: readonly Buffer[]): boolean {
  const name = args[0];
  if (is(name, 'EXPIRE') || is(name, 'PEXPIRE') || is(name, 'PERSIST')) return true;
  if (args.length <= 3 || !(is(name, 'SET') || is(name, 'PUT'))) return false;
  for (let i = 3; i < args.length; i++) {
    const arg = args[i];
    if (is(arg, 'NX') || is(arg, 'XX') || is(arg, 'KEEPTTL')) return true;
  }
  return false;
}

/**
 * Runs the commands of one connection so that they take effect in the order they came, as
 * a client pipelining them expects. Commands are served concurrently (replies still leave in
 * order), which keeps that order for everything but a command that reads, then writes: its
 * write comes after the commands pipelined behind it were served. So what follows such a
 * command on its connection waits until it has finished: in `SET k v EX 1; EXPIRE k 100;
 * DEL k` the DEL's tombstone is then the newest version, and in `SET k a NX; GET k` the GET
 * sees the NX's outcome.
 *
 * @param run - serves the command
 */
export function inSequence(
  args: readonly Buffer[],
  connection: ServerConnection,
  run: () => Reply | Promise<Reply>,
): Reply | Promise<Reply> {
  const tail = connection.locals[TAIL] as Promise<void> | undefined;
  const reply = tail === undefined ? run() : tail.then(run);
  if (!readsThenWrites(args)) return reply;
  const settled = Promise.resolve(reply).then(
    () => undefined,
    () => undefined,
  );
  connection.locals[TAIL] = settled;
  void settled.then(() => {
    if (connection.locals[TAIL] === settled) delete connection.locals[TAIL];
  });
  return reply;
}
