import type { CommandHook, ServerConnection } from '@kv/protocol';
import { NodeCommand } from './replication';

/** Set in a connection's `locals` once it carried a replicated write. */
const REPLICATED = 'replicated';

/**
 * Notices when another member gives up on its replication connection to this node. A
 * member drops a connection whose request timed out (or that broke) and, until it dials
 * again, keeps the writes it coordinates for this node as hints instead of sending them:
 * this node's copy then lacks writes the other replicas acknowledged, and nothing else
 * tells it so when it is reachable and merely slow. Such a close makes the node stale
 * (see `WriteGate.markStale`) until a sync round, which collects those hints, completes.
 *
 * Counted: connections that carried `REPLICATE` or `REPLICATE_BATCH` (peer commands: with
 * a cluster secret, only members get to send them, so no stranger can make a node stale).
 * Not counted: connections this node's server closed itself (shutdown, idle or request
 * timeout), clients' connections, and members' tools (status, dashboard) that replicate
 * nothing.
 */
export class MemberConnections {
  /** @param onLost - told of each counted close, with the peer's address */
  constructor(private readonly onLost: (remoteAddress: string) => void) {}

  /** The router hook, run after the access check. */
  readonly hook: CommandHook = (command, _args, connection) => {
    const name = command.name;
    if (name === NodeCommand.replicate || name === NodeCommand.replicateBatch)
      connection.locals[REPLICATED] = true;
  };

  /** The server's `onClose`. */
  readonly closed = (connection: ServerConnection, byServer: boolean): void => {
    if (!byServer && connection.locals[REPLICATED] === true) this.onLost(connection.remoteAddress);
  };
}
