import {
  AuthenticationError,
  ErrorCode,
  parseAddress,
  ReplyError,
  RespConnection,
  type ConnectFactory,
  type Handshake,
  type RespValue,
} from '@kv/protocol';

/** Options of {@link LeaderForwarder}. */
export interface LeaderForwarderOptions {
  /**
   * Opens connections: plain TCP, or TLS when the coordinators speak it.
   * @default plain TCP
   */
  readonly connect?: ConnectFactory;
  /** Authenticates each connection as a member (the cluster secret), when there is one. */
  readonly handshake?: Handshake;
  /** Longest wait to connect, and for one forwarded reply. */
  readonly timeoutMs: number;
}

/**
 * A follower's connection to the leading coordinator: it sends a membership change there
 * as `FORWARD command args...` and answers with the leader's reply. The connection
 * authenticates as a member and speaks TLS like every other member connection; it is
 * replaced when another coordinator leads.
 */
export class LeaderForwarder {
  private connection: RespConnection | undefined;
  private connecting: Promise<RespConnection> | undefined;
  private address: string | undefined;

  constructor(private readonly options: LeaderForwarderOptions) {}

  /**
   * The leader's reply to `args`.
   * @throws the leader's `ReplyError`, or `-UNAVAILABLE` when it cannot be reached
   */
  async forward(leader: string, args: readonly Buffer[]): Promise<RespValue> {
    // The arguments are views into the receive buffer: copy them before waiting.
    const copies = args.map((arg) => Buffer.from(arg));
    try {
      const connection = await this.connectionTo(leader);
      return await connection.send(['FORWARD', ...copies]);
    } catch (err) {
      if (err instanceof ReplyError) throw err;
      this.drop();
      throw new ReplyError(
        `${ErrorCode.UNAVAILABLE} cannot reach the leading coordinator at ${leader} (${describe(err)}): retry, or send to another coordinator`,
      );
    }
  }

  /** Closes the connection to the leader. */
  close(): void {
    this.drop();
  }

  private connectionTo(leader: string): Promise<RespConnection> {
    if (this.address !== leader) this.drop();
    if (this.connection && !this.connection.closed) return Promise.resolve(this.connection);
    this.address = leader;
    this.connecting ??= this.open(leader).finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async open(leader: string): Promise<RespConnection> {
    const address = parseAddress(leader);
    if (address === undefined) throw new Error(`the leader key holds '${leader}', not host:port`);
    const connection = await RespConnection.connect({
      ...address,
      connectTimeoutMs: this.options.timeoutMs,
      requestTimeoutMs: this.options.timeoutMs,
      handshake: this.options.handshake,
      ...(this.options.connect && { connect: this.options.connect }),
    });
    if (this.address !== leader) {
      connection.destroy();
      throw new Error('another coordinator leads now');
    }
    this.connection = connection;
    return connection;
  }

  private drop(): void {
    this.connection?.destroy();
    this.connection = undefined;
    this.address = undefined;
  }
}

function describe(err: unknown): string {
  if (err instanceof AuthenticationError) return err.message;
  if (err && typeof err === 'object' && 'code' in err && typeof err.code === 'string')
    return err.code;
  return err instanceof Error ? err.message : String(err);
}
