import type { Handshake } from './auth-handshake';
import { RespConnection, type RequestOptions } from './connection';
import {
  AuthenticationError,
  ConnectError,
  OverloadedError,
  QueueFullError,
  ReplyError,
  RequestAbortedError,
  RequestTimeoutError,
  UnreachableError,
} from './errors';
import { connectTcp, type ConnectFactory } from './transport';
import type { CommandArg, RespValue } from './types';

/** Options of {@link ConnectionPool}. */
export interface ConnectionPoolOptions {
  /**
   * Default time to wait for each reply.
   * @default 1000
   */
  requestTimeoutMs?: number;
  /**
   * Time to wait for a connection.
   * @default 1000
   */
  connectTimeoutMs?: number;
  /**
   * First pause before dialling a server again after a failure; doubles on each failure
   * in a row, up to `maxBackoffMs`.
   * @default 100
   */
  minBackoffMs?: number;
  /** @default 2000 */
  maxBackoffMs?: number;
  /**
   * Most requests waiting on one connection; more fail at once with {@link OverloadedError}.
   * @default 10000
   */
  maxPending?: number;
  /**
   * Told each time a server could not be reached (a connection refused, broken or timed
   * out), before its backoff starts.
   * @default nothing
   */
  onFailure?: (address: string, reason: string) => void;
  /**
   * Opens each connection: plain TCP, or TLS.
   * @default connectTcp
   */
  connect?: ConnectFactory;
  /**
   * Authenticates each new connection before any request goes on it (see `handshakeFor`).
   * @default none
   */
  handshake?: Handshake;
}

interface Entry {
  connection: Promise<RespConnection> | null;
  /** Gives up `connection`, opening or open (see {@link ConnectionPool.reset}). */
  abandon: (() => void) | undefined;
  /** Until when (Date.now() ms) requests fail at once instead of dialling again. */
  retryAt: number;
  backoffMs: number;
  /** Why the last attempt failed, for the error of requests refused during backoff. */
  reason: string;
}

/**
 * Splits `host:port` at its last colon (so an IPv6 host keeps its own); undefined unless
 * the host is not empty and the port is an integer from 1 to 65535.
 */
export function parseAddress(address: string): { host: string; port: number } | undefined {
  const colon = address.lastIndexOf(':');
  const port = Number(address.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { host: address.slice(0, colon), port };
}

function reasonOf(err: unknown): string {
  if (err instanceof ConnectError) return err.reason ?? 'connect failed';
  return err instanceof Error ? err.message : String(err);
}

/**
 * One long-lived, pipelined {@link RespConnection} per server, dialled on first use. A
 * connection that fails (cannot connect, breaks, or a request on it times out with no
 * reply at all meanwhile) is dropped and the server is backed off: until the backoff passes,
 * requests to it fail at once with {@link UnreachableError}, so a dead server costs no
 * waiting. A busy server is not a failed one: a request that finds `maxPending` requests
 * already waiting, or times out while replies to earlier ones still arrive, fails alone
 * with {@link OverloadedError}. Error replies from a live server are passed through as
 * {@link ReplyError} and do not count as failures.
 */
export class ConnectionPool {
  private readonly entries = new Map<string, Entry>();
  private readonly options: Required<Omit<ConnectionPoolOptions, 'handshake'>> &
    Pick<ConnectionPoolOptions, 'handshake'>;
  private closed = false;
  /** Connections (as opened) {@link reset} closed: what fails on them is no failure of their server. */
  private readonly resets = new WeakSet<Promise<RespConnection>>();
  /** Connections (as opened) whose failure backed their server off already. */
  private readonly failed = new WeakSet<Promise<RespConnection>>();

  constructor(options: ConnectionPoolOptions = {}) {
    this.options = {
      requestTimeoutMs: options.requestTimeoutMs ?? 1000,
      connectTimeoutMs: options.connectTimeoutMs ?? 1000,
      minBackoffMs: options.minBackoffMs ?? 100,
      maxBackoffMs: options.maxBackoffMs ?? 2000,
      maxPending: options.maxPending ?? 10_000,
      connect: options.connect ?? connectTcp,
      onFailure: options.onFailure ?? (() => undefined),
      handshake: options.handshake,
    };
  }

  /**
   * Sends a command to `address` (`host:port`).
   *
   * @throws {@link UnreachableError} when the server cannot be reached or did not answer in
   *   time ({@link OverloadedError}, without dropping the connection, when too many requests
   *   already wait on it or it answered others meanwhile); {@link AuthenticationError} when
   *   it refused the handshake (the server then backs off as an unreachable one);
   *   {@link ReplyError} for an error reply; {@link RequestAbortedError} when aborted
   */
  async send(
    address: string,
    args: readonly CommandArg[],
    options: RequestOptions = {},
  ): Promise<RespValue> {
    const opening = this.connection(address);
    const connection = await opening;
    try {
      return await connection.send(args, {
        timeoutMs: options.timeoutMs ?? this.options.requestTimeoutMs,
        signal: options.signal,
      });
    } catch (err) {
      if (err instanceof ReplyError || err instanceof RequestAbortedError) throw err;
      if (this.resets.has(opening))
        throw new UnreachableError(address, 'connection reset', { cause: err });
      if (err instanceof QueueFullError)
        throw new OverloadedError(address, `${err.message}; not sent`, { cause: err });
      // A server that answered other requests meanwhile is busy, not gone.
      if (err instanceof RequestTimeoutError && err.peerAnswered)
        throw new OverloadedError(address, `${err.message}, while it answered earlier ones`, {
          cause: err,
        });
      this.markFailed(address, reasonOf(err), opening);
      throw new UnreachableError(address, reasonOf(err), { cause: err });
    }
  }

  /** False while `address` is backing off after a failure. */
  isAvailable(address: string): boolean {
    const entry = this.entries.get(address);
    return !entry || entry.connection !== null || Date.now() >= entry.retryAt;
  }

  /**
   * Ends the backoff of `address` (it was just heard from, so it is reachable again): the
   * next request dials it at once instead of failing until the backoff passes.
   */
  forgive(address: string): void {
    const entry = this.entries.get(address);
    if (!entry || entry.connection) return;
    entry.retryAt = 0;
    entry.backoffMs = this.options.minBackoffMs;
  }

  /** Connections currently open or opening. */
  get size(): number {
    let n = 0;
    for (const entry of this.entries.values()) if (entry.connection) n++;
    return n;
  }

  /**
   * Closes the connection to `address` (to every server when omitted) without backing it
   * off: requests waiting on it fail with {@link UnreachableError} (`connection reset`), and
   * the next request dials anew. For connections that may be stale: a request sent into a
   * network partition is retransmitted by TCP further and further apart, so after the
   * partition heals it can wait tens of seconds more on its old connection.
   */
  reset(address?: string): void {
    for (const [at, entry] of this.entries) {
      if (address !== undefined && at !== address) continue;
      const abandon = entry.abandon;
      entry.connection = null;
      entry.abandon = undefined;
      abandon?.();
    }
  }

  /** Closes every connection; later requests fail with {@link UnreachableError}. */
  close(): void {
    this.closed = true;
    for (const [address, entry] of this.entries) {
      void entry.connection?.then(
        (c) => c.destroy(),
        () => undefined,
      );
      this.entries.delete(address);
    }
  }

  private connection(address: string): Promise<RespConnection> {
    if (this.closed) return Promise.reject(new UnreachableError(address, 'pool closed'));
    let entry = this.entries.get(address);
    if (!entry) {
      entry = {
        connection: null,
        abandon: undefined,
        retryAt: 0,
        backoffMs: this.options.minBackoffMs,
        reason: '',
      };
      this.entries.set(address, entry);
    }
    if (entry.connection) return entry.connection;
    if (Date.now() < entry.retryAt)
      return Promise.reject(new UnreachableError(address, `${entry.reason}; backing off`));
    const parsed = parseAddress(address);
    if (!parsed) return Promise.reject(new UnreachableError(address, 'not a host:port address'));
    const { host, port } = parsed;
    const current = entry;
    // A reset while the connection opens (its handshake may have gone into a partition)
    // fails the requests waiting for it at once.
    let cancel!: (err: Error) => void;
    const cancelled = new Promise<never>((_, reject) => (cancel = reject));
    const dialled = RespConnection.connect({
      host,
      port,
      connectTimeoutMs: this.options.connectTimeoutMs,
      requestTimeoutMs: this.options.requestTimeoutMs,
      maxPending: this.options.maxPending,
      connect: this.options.connect,
      handshake: this.options.handshake,
    }).then(
      (c) => {
        current.backoffMs = this.options.minBackoffMs;
        c.once('close', () => {
          if (current.connection !== opening) return;
          current.connection = null;
          current.abandon = undefined;
        });
        // Closed while connecting: do not leave the socket open.
        if (this.closed) c.destroy();
        return c;
      },
      (err: unknown) => {
        // One given up before it failed says nothing of the server now.
        if (!this.resets.has(opening)) this.markFailed(address, reasonOf(err), opening);
        // Reached, but refused: retrying elsewhere or later would not help, so say so.
        if (err instanceof AuthenticationError) throw err;
        throw new UnreachableError(address, reasonOf(err), { cause: err });
      },
    );
    const opening = Promise.race([dialled, cancelled]);
    // Whoever waits sees the rejection; these two copies need no handler of their own.
    opening.catch(() => undefined);
    dialled.catch(() => undefined);
    entry.connection = opening;
    entry.abandon = () => {
      this.resets.add(opening);
      cancel(new UnreachableError(address, 'connection reset'));
      void dialled.then(
        (c) => c.destroy(),
        () => undefined,
      );
    };
    return opening;
  }

  /**
   * Backs `address` off after a failure of its connection `failed`, once per connection
   * (every request waiting on one that broke fails with it); a failure of an older
   * connection, one since replaced, changes nothing.
   */
  private markFailed(address: string, reason: string, failed: Promise<RespConnection>): void {
    const entry = this.entries.get(address);
    if (!entry || this.failed.has(failed)) return;
    if (entry.connection !== null && entry.connection !== failed) return;
    this.failed.add(failed);
    const old = entry.connection;
    entry.abandon = undefined;
    entry.connection = null;
    entry.reason = reason;
    entry.retryAt = Date.now() + entry.backoffMs;
    entry.backoffMs = Math.min(entry.backoffMs * 2, this.options.maxBackoffMs);
    this.options.onFailure(address, reason);
    void old?.then(
      (c) => c.destroy(),
      () => undefined,
    );
  }
}
