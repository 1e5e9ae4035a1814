import { Scope, type CommandHook, type CommandRouter } from '@kv/protocol';

/**
 * Client-scope commands a member's new connection may send before any peer command, so
 * they are served at the bound too (they answer at once and cost next to nothing): the
 * member challenge, and TIME, which members sample each other's clocks with. Held, they
 * would hold the replication requests pipelined behind them on the same connection.
 */
const MEMBER_PREAMBLE = new Set(['AUTH_CHALLENGE', 'AUTH_MEMBER', 'TIME']);

/**
 * Router hook, after the access check: a connection that ran a `peer` or `admin` command
 * carries the cluster's own traffic, and `--max-in-flight` never holds it back. A slow node
 * that stopped reading its members' replication would time their writes out into hints:
 * more work for the whole cluster when it has the least room.
 */
export const prioritizeMembers: CommandHook = (command, _args, connection) => {
  if (command.spec.scope !== Scope.client && !connection.priority) connection.prioritize();
};

/**
 * The server's `admitsAtBound`: whether a request of a connection not yet marked priority
 * is a member's (a peer or admin command, the member challenge or TIME), served at the bound so
 * a member's first request on a new connection is never held behind clients'.
 */
export function admitsMemberRequests(
  router: Pick<CommandRouter<unknown>, 'lookup'>,
): (args: Buffer[]) => boolean {
  return (args) => {
    const command = router.lookup((args[0] as Buffer).toString('latin1'));
    return (
      command !== undefined &&
      (command.spec.scope !== Scope.client || MEMBER_PREAMBLE.has(command.canonical))
    );
  };
}
