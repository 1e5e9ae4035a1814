import type { ProtocolError } from './errors';
import type { ProtocolLimits } from './limits';
import type { ListenFactory } from './transport';
import type { ReadPath } from './socket-reads';
import type { Reply } from './types';

/** The peer a command came from, as handlers see it. */
export interface ServerConnection {
  /** Sequence number of the connection within its server, from 1. */
  readonly id: number;
  /** `ip:port` of the peer. */
  readonly remoteAddress: string;
  /** How the connection's input is read (see `readChunks`). */
  readonly readPath: ReadPath;
  /** Per-connection state kept by handlers (authentication, selected database, ...). */
  readonly locals: Record<string, unknown>;
  /** Closes the connection once the replies already due have been written. */
  close(): void;
  /**
   * Whether the connection carries the cluster's own traffic (see {@link prioritize}):
   * {@link RespServerOptions.maxInFlight} neither holds it back nor counts its commands.
   */
  readonly priority: boolean;
  /**
   * Marks the connection as carrying the cluster's own traffic (replication, data movement)
   * for good: its commands are served whatever the server's load, as work clients are
   * waiting on elsewhere depends on them.
   */
  prioritize(): void;
}

/**
 * Serves one command. `args[0]` is the command name as sent (any case). The Buffers are views
 * into received bytes: copy what must outlive the call. Throwing or rejecting with a
 * {@link ReplyError} sends that error; any other exception sends `-ERR internal error` and
 * is reported to {@link RespServerOptions.onError}.
 */
export type CommandHandler = (
  args: Buffer[],
  connection: ServerConnection,
) => Reply | Promise<Reply>;

/** Options of {@link createRespServer}. */
export interface RespServerOptions {
  /** Serves each command. */
  handler: CommandHandler;
  /** Parser limits; see {@link ProtocolLimits}. */
  limits?: Partial<ProtocolLimits>;
  /**
   * Makes the listening server: how connections are accepted (plain TCP, or TLS with
   * `listenTls`).
   * @default listenTcp
   */
  listen?: ListenFactory;
  /**
   * A connection with nothing in flight and no traffic for this long (no byte received, no
   * reply byte taken: replies left unread are silence too) is closed. Checked with the
   * request timeout, a few times per period and at least every second, so it closes within
   * about two such intervals past it. 0 disables.
   * @default 300000
   */
  idleTimeoutMs?: number;
  /**
   * A request must arrive whole within this many ms of its first byte, and a reply the peer
   * does not read must not hold the connection longer: a connection that trickles a request
   * (or stops reading) without completing one for this long is answered
   * `-TIMEOUT request not completed in N ms: connection closed` and closed, so it cannot
   * hold a connection slot forever. Checked a few times per period, off the request path.
   * 0 disables.
   * @default 30000
   */
  requestTimeoutMs?: number;
  /**
   * Connections beyond this many are answered `-ERR max number of clients reached` and
   * closed at once, whatever the peer does.
   * @default 10000
   */
  maxConnections?: number;
  /**
   * While more reply bytes than this wait to be sent (finished replies held behind one not
   * finished yet included), the connection stops reading, so a peer that does not read
   * cannot make the server buffer without bound.
   * @default 8388608
   */
  maxOutputBytes?: number;
  /**
   * While this many asynchronous commands of one connection are unfinished, it stops reading.
   * @default 1024
   */
  maxPendingReplies?: number;
  /**
   * Most commands, over all connections, whose asynchronous replies are unfinished, or
   * whose replies, made at once, wait for the {@link durability} gate: the work the server
   * has taken on. At the bound a connection stops dispatching and reading
   * (so TCP backpressure reaches its peer) until commands finish; held connections resume
   * in the order they were held. Connections marked {@link ServerConnection.prioritize}
   * are neither held nor counted. 0: no bound.
   * @default 0
   */
  maxInFlight?: number;
  /**
   * Asked, only while the server is at `maxInFlight`, of each request of a connection not
   * marked priority: true serves it all the same (the first request of a member's new
   * connection, which marks it priority when served).
   * @default nothing is
   */
  admitsAtBound?: (args: Buffer[], connection: ServerConnection) => boolean;
  /** Called each time `maxInFlight` holds a connection back. */
  onHeld?: (connection: ServerConnection) => void;
  /** Called with an unexpected handler exception (the peer got `-ERR internal error`). */
  onError?: (err: unknown, connection: ServerConnection) => void;
  /**
   * What replies wait for: asked once per round of replies (after each round of input), a
   * promise holds the round until it resolves; undefined lets it go at once. A store that
   * accepts a write at once and makes it durable a moment later (a write-ahead log synced
   * once per round) gives here the promise of that sync, so no reply, whether it
   * acknowledges a write or reads one, leaves before the writes accepted ahead of it are
   * durable. A rejection closes the round's connections unanswered (their outcome is
   * unknown) and is reported to `onError`.
   * @default replies go at once
   */
  durability?: () => Promise<void> | undefined;
  /**
   * Called when a connection closes its socket on a protocol error: after `-PROTO` was sent,
   * or at once for a TLS handshake on a plain port.
   */
  onProtocolError?: (err: ProtocolError, connection: ServerConnection) => void;
  /**
   * Called once when a connection's socket has closed. `byServer` is true when this server
   * ended it (shutdown, idle or request timeout, protocol error), false when the peer closed
   * it or it broke.
   */
  onClose?: (connection: ServerConnection, byServer: boolean) => void;
}

/** Values of the {@link RespServerOptions} settings that are left out. */
export const DEFAULTS = {
  idleTimeoutMs: 300_000,
  requestTimeoutMs: 30_000,
  maxConnections: 10_000,
  maxOutputBytes: 8 * 1024 * 1024,
  maxPendingReplies: 1024,
  maxInFlight: 0,
};
