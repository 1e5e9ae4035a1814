import { RespConnection, type CommandArg, type RespValue } from '@kv/protocol';
import { PeerUnavailableError } from './errors';

/** Options of {@link PeerPool}. */
export interface PeerPoolOptions {
  /**
   * Time to wait for a peer's reply.
   * @default 1000
   */
  requestTimeoutMs?: number;
  /**
   * Time to wait for a connection to a peer.
   * @default 1000
   */
  connectTimeoutMs?: number;
  /**
   * First pause before dialling a peer again after a failed attempt; doubles up to `maxBackoffMs`.
   * @default 100
   */
  minBackoffMs?: number;
  /** @default 2000 */
  maxBackoffMs?: number;
}

interface Peer {
  connection: Promise<RespConnection> | null;
  retryAt: number;
  backoffMs: number;
}

function parseId(id: string): { host: string; port: number } {
  const colon = id.lastIndexOf(':');
  return { host: id.slice(0, colon), port: Number(id.slice(colon + 1)) };
}

/**
 * One long-lived, pipelined connection per peer node. Requests to a peer that failed
 * recently fail at once until its backoff passes, so a dead replica costs no waiting.
 */
export class PeerPool {
  private readonly peers = new Map<string, Peer>();
  private readonly requestTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;
  private closed = false;

  constructor(options: PeerPoolOptions = {}) {
    this.requestTimeoutMs = options.requestTimeoutMs ?? 1000;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 1000;
    this.minBackoffMs = options.minBackoffMs ?? 100;
    this.maxBackoffMs = options.maxBackoffMs ?? 2000;
  }

  /** Sends a command to peer `id` (`host:port`). Rejects with PeerUnavailableError when it cannot be reached. */
  async send(id: string, args: readonly CommandArg[]): Promise<RespValue> {
    const connection = await this.connection(id);
    try {
      return await connection.send(args, { timeoutMs: this.requestTimeoutMs });
    } catch (err) {
      if (err instanceof Error && err.name === 'ReplyError') throw err;
      this.markFailed(id);
      throw new PeerUnavailableError(id, { cause: err });
    }
  }

  /** True if the peer is not in backoff after a failure. */
  isAvailable(id: string): boolean {
    const peer = this.peers.get(id);
    return !peer || peer.connection !== null || Date.now() >= peer.retryAt;
  }

  /** Closes every connection. */
  close(): void {
    this.closed = true;
    for (const [id, peer] of this.peers) {
      void peer.connection?.then(
        (c) => c.destroy(),
        () => undefined,
      );
      this.peers.delete(id);
    }
  }

  private connection(id: string): Promise<RespConnection> {
    if (this.closed) return Promise.reject(new PeerUnavailableError(id));
    let peer = this.peers.get(id);
    if (!peer) {
      peer = { connection: null, retryAt: 0, backoffMs: this.minBackoffMs };
      this.peers.set(id, peer);
    }
    if (peer.connection) return peer.connection;
    if (Date.now() < peer.retryAt) return Promise.reject(new PeerUnavailableError(id));
    const { host, port } = parseId(id);
    const opening = RespConnection.connect({
      host,
      port,
      connectTimeoutMs: this.connectTimeoutMs,
      requestTimeoutMs: this.requestTimeoutMs,
    }).then(
      (c) => {
        (peer as Peer).backoffMs = this.minBackoffMs;
        c.once('close', () => {
          if (this.peers.get(id)?.connection === opening) (peer as Peer).connection = null;
        });
        return c;
      },
      (err: unknown) => {
        this.markFailed(id);
        throw new PeerUnavailableError(id, { cause: err });
      },
    );
    peer.connection = opening;
    return opening;
  }

  private markFailed(id: string): void {
    const peer = this.peers.get(id);
    if (!peer) return;
    const old = peer.connection;
    peer.connection = null;
    peer.retryAt = Date.now() + peer.backoffMs;
    peer.backoffMs = Math.min(peer.backoffMs * 2, this.maxBackoffMs);
    void old?.then(
      (c) => c.destroy(),
      () => undefined,
    );
  }
}
