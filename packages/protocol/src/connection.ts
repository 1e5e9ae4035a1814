import { EventEmitter } from 'node:events';
import type { Handshake } from './auth-handshake';
import { Deque } from './deque';
import {
  AuthenticationError,
  ConnectError,
  ConnectionClosedError,
  describeTlsFailure,
  ProtocolError,
  QueueFullError,
  ReplyError,
  RequestAbortedError,
  RequestTimeoutError,
} from './errors';
import type { ProtocolLimits } from './limits';
import { RespParser } from './parser';
import { readChunks } from './socket-reads';
import { connectTcp, type ConnectFactory, type Socket, type TLSSocket } from './transport';
import type { CommandArg, RespValue } from './types';
import { RespWriter } from './writer';

/** Options of {@link RespConnection.connect}. */
export interface ConnectionOptions {
  /** Port to connect to. */
  port: number;
  /**
   * Host to connect to.
   * @default '127.0.0.1'
   */
  host?: string;
  /**
   * Give up connecting after this long.
   * @default 5000
   */
  connectTimeoutMs?: number;
  /**
   * Default time to wait for each reply; 0 waits forever. A request that times out is
   * rejected with {@link RequestTimeoutError}; its late reply is discarded.
   * @default 5000
   */
  requestTimeoutMs?: number;
  /**
   * Most requests waiting to be sent or answered; more are rejected with {@link QueueFullError}.
   * @default 10000
   */
  maxPending?: number;
  /** Limits for parsing replies; see {@link ProtocolLimits}. */
  limits?: Partial<ProtocolLimits>;
  /**
   * Opens the socket: plain TCP, or TLS. `connectTimeoutMs` covers it until it is ready.
   * @default connectTcp
   */
  connect?: ConnectFactory;
  /**
   * Authenticates the connection before `connect` resolves (see `handshakeFor`); when
   * the server refuses, `connect` rejects with {@link AuthenticationError}.
   * @default none
   */
  handshake?: Handshake;
}

/** Per-request options of {@link RespConnection.send}. */
export interface RequestOptions {
  /** Overrides the connection's `requestTimeoutMs` for this request. */
  timeoutMs?: number;
  /** Abandons the request (rejecting it with {@link RequestAbortedError}) when aborted. */
  signal?: AbortSignal;
}

/** A request sent (or about to be) whose reply has not arrived. */
interface Pending {
  resolve: (value: RespValue) => void;
  reject: (err: Error) => void;
  /** Time (ms, monotonic) after which it times out; Infinity for never. */
  deadline: number;
  timeoutMs: number;
  settled: boolean;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

function describeFailure(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  const tls = describeTlsFailure(code);
  return tls ? `${code}: ${tls}` : err.message;
}

function now(): number {
  return performance.now();
}

/**
 * A client connection that pipelines commands and resolves their replies in order.
 * Commands sent in the same tick leave in one write; when the socket's buffer is full,
 * sending waits for `drain`. When the socket closes or fails, every pending request is
 * rejected with {@link ConnectionClosedError}. Emits `close` (with the error that caused it,
 * if any) once.
 */
export class RespConnection extends EventEmitter<{ close: [Error | undefined] }> {
  /** `host:port` of the peer. */
  readonly address: string;
  private readonly socket: Socket;
  private readonly parser: RespParser<'reply'>;
  private readonly writer = new RespWriter();
  private readonly inflight = new Deque<Pending>();
  private readonly requestTimeoutMs: number;
  private readonly maxPending: number;
  private flushScheduled = false;
  private waitingForDrain = false;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  private closing = false;
  private closedWith: Error | null | undefined = undefined;
  private answered = false;
  private lastReplyAt = -Infinity;

  private constructor(socket: Socket, address: string, options: ConnectionOptions) {
    super();
    this.socket = socket;
    this.address = address;
    this.parser = new RespParser('reply', options.limits);
    this.requestTimeoutMs = options.requestTimeoutMs ?? 5000;
    this.maxPending = options.maxPending ?? 10_000;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);
    readChunks(socket, (chunk) => this.onData(chunk));
    socket.on('drain', () => {
      this.waitingForDrain = false;
      this.flush();
    });
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(undefined));
  }

  /**
   * Opens a connection.
   * @throws {@link ConnectError} when the peer cannot be reached within `connectTimeoutMs`;
   *   {@link AuthenticationError} when it refuses the `handshake`
   */
  static async connect(options: ConnectionOptions): Promise<RespConnection> {
    const connection = await RespConnection.open(options);
    if (options.handshake === undefined) return connection;
    try {
      await options.handshake(connection);
    } catch (err) {
      connection.destroy();
      if (err instanceof ReplyError) throw new AuthenticationError(connection.address, err);
      throw err;
    }
    return connection;
  }

  private static open(options: ConnectionOptions): Promise<RespConnection> {
    const host = options.host ?? '127.0.0.1';
    const address = `${host}:${options.port}`;
    const timeoutMs = options.connectTimeoutMs ?? 5000;
    return new Promise((resolve, reject) => {
      const onReady = (): void => {
        clearTimeout(timer);
        socket.off('error', onError);
        resolve(new RespConnection(socket, address, options));
      };
      const onError = (err: NodeJS.ErrnoException): void => {
        clearTimeout(timer);
        reject(new ConnectError(address, err.code, { cause: err }));
      };
      const socket = (options.connect ?? connectTcp)({ host, port: options.port }, onReady);
      socket.once('error', onError);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new ConnectError(address, 'ETIMEDOUT'));
      }, timeoutMs);
    });
  }

  /** Requests sent or queued whose replies have not arrived (timed-out ones included). */
  get pending(): number {
    return this.inflight.length;
  }

  /** True once the connection is closed or closing; `send` then rejects. */
  get closed(): boolean {
    return this.closing || this.closedWith !== undefined;
  }

  /**
   * Sends a command; resolves with its reply, rejects with {@link ReplyError} for an error
   * reply, or with {@link RequestTimeoutError}, {@link RequestAbortedError},
   * {@link QueueFullError} or {@link ConnectionClosedError}.
   */
  send(args: readonly CommandArg[], options?: RequestOptions): Promise<RespValue> {
    if (this.closed) {
      return Promise.reject(
        new ConnectionClosedError(`connection to ${this.address} is closed`, {
          cause: this.closedWith ?? undefined,
        }),
      );
    }
    if (this.inflight.length >= this.maxPending)
      return Promise.reject(new QueueFullError(this.maxPending));
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(new RequestAbortedError({ cause: signal.reason }));
    const timeoutMs = options?.timeoutMs ?? this.requestTimeoutMs;
    return new Promise<RespValue>((resolve, reject) => {
      const pending: Pending = {
        resolve,
        reject,
        deadline: timeoutMs > 0 ? now() + timeoutMs : Infinity,
        timeoutMs,
        settled: false,
        signal,
        onAbort: undefined,
      };
      if (signal) {
        pending.onAbort = () =>
          this.settle(pending, new RequestAbortedError({ cause: signal.reason }));
        signal.addEventListener('abort', pending.onAbort, { once: true });
      }
      this.writer.command(args);
      this.inflight.push(pending);
      if (pending.deadline < this.timerAt) this.armTimer(pending.deadline);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        process.nextTick(() => {
          this.flushScheduled = false;
          this.flush();
        });
      }
    });
  }

  /** Stops accepting requests, waits for the pending replies, then closes. */
  async close(): Promise<void> {
    if (this.closedWith !== undefined) return;
    this.closing = true;
    const closed = new Promise<void>((resolve) => this.once('close', () => resolve()));
    if (this.inflight.length === 0) this.socket.end();
    await closed;
  }

  /** Closes at once, rejecting every pending request. */
  destroy(err?: Error): void {
    this.fail(err);
  }

  private flush(): void {
    if (this.waitingForDrain || this.writer.length === 0 || this.socket.destroyed) return;
    const chunks = this.writer.take();
    let ok: boolean;
    if (chunks.length === 1) {
      ok = this.socket.write(chunks[0] as Buffer);
    } else {
      this.socket.cork();
      ok = true;
      for (const chunk of chunks) ok = this.socket.write(chunk);
      this.socket.uncork();
    }
    if (!ok) this.waitingForDrain = true;
  }

  private onData(chunk: Buffer): void {
    this.answered = true;
    try {
      this.parser.feed(chunk, (reply) => {
        const pending = this.inflight.shift();
        if (!pending) throw new ProtocolError('reply received with no request waiting for it');
        this.lastReplyAt = now();
        if (reply instanceof ReplyError) this.settle(pending, reply);
        else this.settle(pending, undefined, reply);
      });
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    if (this.closing && this.inflight.length === 0) this.socket.end();
  }

  private settle(pending: Pending, err: Error | undefined, value: RespValue = null): void {
    if (pending.settled) return;
    pending.settled = true;
    if (pending.onAbort) pending.signal?.removeEventListener('abort', pending.onAbort);
    if (err) pending.reject(err);
    else pending.resolve(value);
  }

  private armTimer(at: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => this.expire(), Math.max(0, at - now()));
    this.timer.unref();
  }

  /** Times out every overdue request and re-arms for the next deadline. */
  private expire(): void {
    this.timer = null;
    this.timerAt = Infinity;
    const t = now();
    let next = Infinity;
    for (const pending of this.inflight) {
      if (pending.settled) continue;
      if (pending.deadline <= t) {
        const sentAt = pending.deadline - pending.timeoutMs;
        this.settle(
          pending,
          new RequestTimeoutError(pending.timeoutMs, this.lastReplyAt >= sentAt),
        );
      } else if (pending.deadline < next) {
        next = pending.deadline;
      }
    }
    if (next !== Infinity) this.armTimer(next);
  }

  /**
   * Why a server may close a new connection without a word, for the message: a TLS server
   * checks a client's certificate once its side of the handshake is done (with TLS 1.3,
   * after the client's) and refuses one by closing; a TLS server sent plain RESP closes too.
   */
  private silentRefusal(): string {
    if (this.answered || this.inflight.length === 0) return '';
    return (this.socket as TLSSocket).encrypted
      ? ' by the server before any reply (a TLS server closes like this when it refuses the client certificate, or requires one)'
      : ' by the server before any reply (a server that speaks TLS closes plain connections like this: connect with TLS)';
  }

  private fail(err: Error | undefined): void {
    if (this.closedWith !== undefined) return;
    this.closedWith = err ?? null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!this.socket.destroyed) this.socket.destroy();
    const reason = err ? `: ${describeFailure(err)}` : this.silentRefusal();
    for (const pending of this.inflight.drain()) {
      this.settle(
        pending,
        new ConnectionClosedError(`connection to ${this.address} closed${reason}`, { cause: err }),
      );
    }
    this.emit('close', err);
  }
}
