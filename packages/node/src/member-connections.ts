import type { CommandHook, ServerConnection } from '@kv/protocol';
import { NodeCommand } from './replication';

/** The member challenge: a connection sending it is a member's, or about to be. */
const AUTH_CHALLENGE = 'AUTH_CHALLENGE';

/** What a connection's commands showed of it, kept in its `locals`. */
interface Marks {
  /** It carried replicated writes. */
  replicated?: boolean;
  /** It began the member challenge. */
  challenged?: boolean;
}

const MARKS = 'memberConnection';

function marksOf(connection: ServerConnection): Marks {
  let marks = connection.locals[MARKS] as Marks | undefined;
  if (marks === undefined) connection.locals[MARKS] = marks = {};
  return marks;
}

/**
 * Notices when another member gives up on its replication connection to this node. A
 * member drops a connection whose request timed out (or that broke) and, until it dials
 * again, keeps the writes it coordinates for this node as hints instead of sending them:
 * this node's copy then lacks writes the other replicas acknowledged, and nothing else
 * tells it so when it is reachable and merely slow. Such a close makes the node stale
 * (see `WriteGate.markStale`) until a sync round, which collects those hints, completes.
 *
 * Counted: connections that carried `REPLICATE` or `REPLICATE_BATCH`, and connections
 * that began the member challenge without completing it (a member whose handshake timed
 * out hints its writes too). Not counted: connections this node's server closed itself (shutdown, idle or
 * request timeout), clients' connections, and members' tools (status, dashboard) that
 * authenticated and replicated nothing.
 */
export class MemberConnections {
  /**
   * @param isMember - whether a connection completed the member challenge
   * @param onLost - told of each counted close, with the peer's address
   */
  constructor(
    private readonly isMember: (connection: ServerConnection) => boolean,
    private readonly onLost: (remoteAddress: string) => void,
  ) {}

  /** The router hook, run after the access check. */
  readonly hook: CommandHook = (command, _args, connection) => {
    const name = command.name;
    if (name === NodeCommand.replicate || name === NodeCommand.replicateBatch)
      marksOf(connection).replicated = true;
    else if (name === AUTH_CHALLENGE) marksOf(connection).challenged = true;
  };

  /** The server's `onClose`. */
  readonly closed = (connection: ServerConnection, byServer: boolean): void => {
    const marks = connection.locals[MARKS] as Marks | undefined;
    if (byServer || marks === undefined) return;
    if (marks.replicated === true || (marks.challenged === true && !this.isMember(connection)))
      this.onLost(connection.remoteAddress);
  };
}
