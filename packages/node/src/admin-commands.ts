import { isAbsolute } from 'node:path';
import { ErrorCode, ReplyError, Scope, SimpleString, type CommandTable } from '@kv/protocol';
import type { CommandContext } from './command-context';
import { NodeError, wrongArgs } from './errors';

/** The commands that change the cluster or its nodes' files, sent by operators. */
export const ADMIN_COMMANDS: CommandTable<Pick<CommandContext, 'decommission' | 'store'>> = {
  // Operators retire a node with `kv decommission host:port`: the node hands its data to
  // the next owners, leaves the ring and stops, as on SIGTERM.
  DECOMMISSION: {
    scope: Scope.admin,
    arity: [0, 0],
    usage: 'DECOMMISSION',
    reply:
      '`+OK leaving: handing off data, then stopping`; the node then leaves gracefully and its process exits',
    errors: '`-ERR this node is already stopping`',
    run: (_args, ctx) =>
      ctx.decommission()
        ? new SimpleString('OK leaving: handing off data, then stopping')
        : new ReplyError(`${ErrorCode.ERR} this node is already stopping`),
  },
  // `kv backup --node host:port DIR`: a snapshot of one node's records while it serves.
  BACKUP: {
    scope: Scope.admin,
    arity: [1, 1],
    usage: 'BACKUP dir',
    reply:
      "`+OK backed up to dir`: `dir` (absolute, on the node's machine) is then a data directory a node can start on (`--data-dir dir`) with the records as of the moment the copy began",
    errors:
      '`-WRONGARGS` for a relative path; `-ERR` for a node without `--data-dir` (nothing on disk to copy), a `dir` that already holds a database, or a copy that failed (the reason is given)',
    run: async (args, ctx) => {
      const dir = (args[1] as Buffer).toString('utf8');
      if (!isAbsolute(dir))
        throw wrongArgs(`BACKUP needs an absolute directory on the node's machine, got '${dir}'`);
      try {
        await ctx.store.backup(dir);
      } catch (err) {
        const reason =
          err instanceof NodeError ? err.message : `backup failed: ${(err as Error).message}`;
        throw new ReplyError(`${ErrorCode.ERR} ${reason}`);
      }
      return new SimpleString(`OK backed up to ${dir}`);
    },
  },
};
