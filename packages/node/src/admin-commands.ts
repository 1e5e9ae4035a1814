import { ErrorCode, ReplyError, Scope, SimpleString, type CommandTable } from '@kv/protocol';
import type { CommandContext } from './command-context';

/** The commands that change the cluster, sent by operators. */
export const ADMIN_COMMANDS: CommandTable<Pick<CommandContext, 'decommission'>> = {
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
};
