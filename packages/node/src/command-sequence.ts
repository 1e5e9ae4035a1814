import type { Reply, ServerConnection } from '@kv/protocol';

/** Set in a connection's `locals` while a command that reads, then writes, runs on it. */
const TAIL = 'readThenWriteTail';

const ALWAYS = new Set(['EXPIRE', 'PEXPIRE', 'PERSIST']);
const PUT_CONDITIONS = new Set(['NX', 'XX', 'KEEPTTL']);

/**
 * Whether `args` is a command that reads the key, then writes what it read decided: EXPIRE,
 * PEXPIRE, PERSIST, and PUT/SET with NX, XX or KEEPTTL. Its write is stamped only once its
 * read came back, later than a command pipelined after it that was dispatched meanwhile.
 */
export function readsThenWrites(args: readonly Buffer[]): boolean {
  const name = args[0]?.toString('latin1').toUpperCase();
  if (name === undefined) return false;
  if (ALWAYS.has(name)) return true;
  if (name !== 'SET' && name !== 'PUT') return false;
  for (let i = 3; i < args.length; i++)
    if (PUT_CONDITIONS.has((args[i] as Buffer).toString('latin1').toUpperCase())) return true;
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
