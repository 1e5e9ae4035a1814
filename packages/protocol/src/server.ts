import { Deque } from './deque';
import { ErrorCode, ProtocolError, ReplyError, TooLargeError } from './errors';
import { resolveLimits, type ProtocolLimits } from './limits';
import { RespParser, type ParsedRequest } from './parser';
import {
  listenTcp,
  type AddressInfo,
  type ListenFactory,
  type Server,
  type Socket,
} from './transport';
import type { TLSSocket } from 'node:tls';
import type { Reply } from './types';
import { RespWriter } from './writer';

/** The peer a command came from, as handlers see it. */
export interface ServerConnection {
  /** Sequence number of the connection within its server, from 1. */
  readonly id: number;
  /** `ip:port` of the peer. */
  readonly remoteAddress: string;
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
   * A connection with no traffic and nothing in flight for this long is closed. 0 disables.
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
   * Most commands, over all connections, whose asynchronous replies are unfinished: the
   * work the server has taken on. At the bound a connection stops dispatching and reading
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

/** A command whose asynchronous reply is not known yet, held to keep replies in order. */
interface Slot {
  done: boolean;
  value: Reply;
  /** Whether it counts towards the server's commands in flight. */
  counted: boolean;
}

/** The first byte of a TLS record carrying a handshake (a ClientHello). */
const TLS_HANDSHAKE = 0x16;

const DEFAULTS = {
  idleTimeoutMs: 300_000,
  requestTimeoutMs: 30_000,
  maxConnections: 10_000,
  maxOutputBytes: 8 * 1024 * 1024,
  maxPendingReplies: 1024,
  maxInFlight: 0,
};

/**
 * The server-wide bound on commands in flight ({@link RespServerOptions.maxInFlight}),
 * shared by its connections: the count, and the connections held back at the bound.
 */
class Admission {
  inFlight = 0;
  /** Held connections, in the order they were held (a Set keeps insertion order). */
  private readonly held = new Set<ConnectionLoop>();

  constructor(
    readonly max: number,
    private readonly admits: RespServerOptions['admitsAtBound'],
    private readonly onHeld: RespServerOptions['onHeld'],
  ) {}

  get full(): boolean {
    return this.max > 0 && this.inFlight >= this.max;
  }

  get heldCount(): number {
    return this.held.size;
  }

  /** Whether `request` of a connection not marked priority may be dispatched now. */
  admit(request: ParsedRequest, loop: ConnectionLoop): boolean {
    return (
      !this.full ||
      (this.admits !== undefined &&
        !(request instanceof TooLargeError) &&
        this.admits(request, loop))
    );
  }

  hold(loop: ConnectionLoop): void {
    this.held.add(loop);
    this.onHeld?.(loop);
  }

  forget(loop: ConnectionLoop): void {
    this.held.delete(loop);
  }

  /** A counted command finished: wakes held connections while there is room. */
  release(): void {
    this.inFlight--;
    for (const loop of this.held) {
      if (this.full) return;
      this.held.delete(loop);
      loop.wake();
    }
  }
}

/**
 * The connections with replies waiting to be written, written together once the event loop
 * has handled every socket that had input ready (`setImmediate` runs right after that poll
 * phase), as Redis writes its replies before it waits for input again. Each connection
 * still gets one write for all the replies it has due, but its peer (often one process
 * driving many connections) is woken once for the whole round of writes rather than
 * between reads, and replies completed asynchronously meanwhile leave in the same write.
 */
class ReplyFlusher {
  private due: ConnectionLoop[] = [];
  private scheduled = false;

  /** Writes `loop`'s replies after this round of input. */
  add(loop: ConnectionLoop): void {
    this.due.push(loop);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.run);
  }

  private readonly run = (): void => {
    this.scheduled = false;
    const due = this.due;
    this.due = [];
    for (let i = 0; i < due.length; i++) (due[i] as ConnectionLoop).flush();
  };
}

/**
 * About how many bytes `reply` takes on the wire: its bulk strings' bytes (strings counted
 * by length) plus a few for each item's framing.
 */
function replyBytes(reply: Reply): number {
  if (reply === null || typeof reply !== 'object')
    return typeof reply === 'string' ? reply.length + 16 : 16;
  if (reply instanceof Uint8Array) return reply.length + 16;
  if (!Array.isArray(reply)) return 16;
  let bytes = 16;
  for (const item of reply as readonly Reply[]) bytes += replyBytes(item);
  return bytes;
}

function isPromise(value: unknown): value is Promise<Reply> {
  return typeof (value as Promise<Reply> | null)?.then === 'function';
}

/** Runs the parse–dispatch–reply loop of one socket. */
class ConnectionLoop implements ServerConnection {
  readonly locals: Record<string, unknown> = {};
  readonly remoteAddress: string;
  private readonly parser: RespParser<'request'>;
  private readonly writer = new RespWriter();
  /** Parsed requests not yet dispatched (reading pauses while replies are backed up). */
  private inbox: ParsedRequest[] = [];
  private inboxPos = 0;
  private readonly slots = new Deque<Slot>();
  /**
   * About how many bytes the replies finished but held in {@link slots} (behind one not
   * finished yet) will take: they count towards `maxOutputBytes` like replies unsent.
   */
  private heldBytes = 0;
  /** Whether this connection waits in the {@link ReplyFlusher} to write its replies. */
  private flushQueued = false;
  /** Reading stopped for this connection's own backlog (replies unsent or unfinished). */
  private paused = false;
  /** Reading stopped because the server is at its bound of commands in flight. */
  private held = false;
  priority = false;
  private ending = false;
  private protocolError: ProtocolError | null = null;
  /** Requests received whole, and reply bytes handed to the socket, so far: progress. */
  private received = 0;
  private handed = 0;
  /** What {@link checkProgress} saw last: requests received, reply bytes taken by the peer. */
  private seenReceived = 0;
  private seenTaken = 0;
  /** Since when (ms) the peer owes the rest of a request or the reading of replies; 0: it does not. */
  private owingSince = 0;
  private started = false;
  private readonly enqueue = (request: ParsedRequest): void => {
    this.received++;
    this.inbox.push(request);
  };

  constructor(
    readonly id: number,
    private readonly socket: Socket,
    private readonly options: RespServerOptions & typeof DEFAULTS,
    limits: ProtocolLimits,
    private readonly admission: Admission,
    private readonly flusher: ReplyFlusher,
  ) {
    this.remoteAddress = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    this.parser = new RespParser('request', limits);
    socket.setNoDelay(true);
    if (options.idleTimeoutMs > 0) {
      socket.setTimeout(options.idleTimeoutMs, () => {
        if (!this.idle) return;
        this.ending = true;
        socket.destroy();
      });
    }
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.resume());
    // Errors (ECONNRESET, EPIPE) end the connection; 'close' follows and cleans up.
    socket.on('error', () => undefined);
    socket.once('close', () => admission.forget(this));
    if (options.onClose) socket.once('close', () => options.onClose?.(this, this.ending));
  }

  /** Nothing received is unanswered, and no reply waits to be written. */
  get idle(): boolean {
    return (
      this.slots.length === 0 && this.inboxPos === this.inbox.length && this.writer.length === 0
    );
  }

  /**
   * Called a few times per request timeout: closes the connection if its peer has owed
   * the rest of a request, or the reading of its replies, for `timeoutMs` without any
   * progress (a request completed, reply bytes taken).
   */
  checkProgress(now: number, timeoutMs: number): void {
    const socket = this.socket;
    if (socket.destroyed) return;
    const unsent = socket.writableLength;
    // Bytes written out of the socket's buffer: grows as the peer reads, however much more
    // the server wrote meanwhile (a reply counts once all of it is out, so a peer must take
    // each reply, at most a value's size, within the timeout).
    const taken = this.handed - unsent;
    const progressed = this.received !== this.seenReceived || taken > this.seenTaken;
    this.seenReceived = this.received;
    this.seenTaken = taken;
    // While reading is paused or held the rest of a request waits on this server, not on
    // the peer; but replies it does not read are on the peer.
    const owing = this.paused || this.held ? unsent > 0 : this.parser.midMessage;
    if (!owing) this.owingSince = 0;
    else if (progressed || this.owingSince === 0) this.owingSince = now;
    else if (now - this.owingSince >= timeoutMs) {
      this.ending = true;
      socket.write(
        `-${ErrorCode.TIMEOUT} request not completed in ${timeoutMs} ms: connection closed\r\n`,
      );
      socket.destroy();
    }
  }

  prioritize(): void {
    this.priority = true;
  }

  close(): void {
    if (this.ending) return;
    this.ending = true;
    this.socket.pause();
    this.maybeEnd();
  }

  private onData(chunk: Buffer): void {
    if (this.ending || this.protocolError) return;
    if (!this.started) {
      this.started = true;
      if (chunk[0] === TLS_HANDSHAKE && !(this.socket as TLSSocket).encrypted) {
        this.refuseTls();
        return;
      }
    }
    try {
      this.parser.feed(chunk, this.enqueue);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      this.protocolError = err;
      this.socket.pause();
    }
    this.process();
  }

  /**
   * A TLS client on a plain port: a `-PROTO` reply would reach it as garbage, so the socket
   * is cut at once, which the client reports as a failed handshake rather than waiting out
   * its connect timeout.
   */
  private refuseTls(): void {
    this.ending = true;
    this.socket.destroy();
    this.options.onProtocolError?.(
      new ProtocolError(
        'a TLS handshake arrived on a port that speaks plain RESP (connect without TLS, or give the server a certificate)',
      ),
      this,
    );
  }

  /** Whether replies unfinished, held or unsent are past the connection's bounds. */
  private get backedUp(): boolean {
    return (
      this.slots.length >= this.options.maxPendingReplies ||
      this.socket.writableLength + this.writer.length + this.heldBytes > this.options.maxOutputBytes
    );
  }

  private process(): void {
    const admission = this.admission;
    while (this.inboxPos < this.inbox.length) {
      if (this.backedUp) {
        this.pause();
        break;
      }
      const request = this.inbox[this.inboxPos] as ParsedRequest;
      if (admission.full && !this.priority && !admission.admit(request, this)) {
        this.hold();
        break;
      }
      this.inbox[this.inboxPos++] = undefined as unknown as ParsedRequest;
      this.dispatch(request);
    }
    if (this.inboxPos === this.inbox.length) {
      this.inbox = [];
      this.inboxPos = 0;
    }
    this.queueFlush();
  }

  private dispatch(request: ParsedRequest): void {
    let result: Reply | Promise<Reply>;
    if (request instanceof TooLargeError) {
      result = new ReplyError(`${ErrorCode.TOOLARGE} ${request.message}`);
    } else {
      try {
        result = this.options.handler(request, this);
      } catch (err) {
        result = this.errorReply(err);
      }
    }
    if (isPromise(result)) {
      // Counted once dispatched: serving the command may have marked the connection priority.
      const counted = this.admission.max > 0 && !this.priority;
      if (counted) this.admission.inFlight++;
      const slot: Slot = { done: false, value: null, counted };
      this.slots.push(slot);
      result.then(
        (value) => this.complete(slot, value),
        (err: unknown) => this.complete(slot, this.errorReply(err)),
      );
    } else if (this.slots.length > 0) {
      this.heldBytes += replyBytes(result);
      this.slots.push({ done: true, value: result, counted: false });
    } else {
      this.writer.reply(result);
    }
  }

  private complete(slot: Slot, value: Reply): void {
    slot.done = true;
    slot.value = value;
    if (this.slots.peek() === slot) {
      this.writer.reply(value);
      this.slots.shift();
      for (let next = this.slots.peek(); next?.done; next = this.slots.peek()) {
        this.heldBytes -= replyBytes(next.value);
        this.writer.reply(next.value);
        this.slots.shift();
      }
    } else {
      this.heldBytes += replyBytes(value);
    }
    if (slot.counted) this.admission.release();
    if (this.paused && !this.backedUp) {
      this.resume();
      return;
    }
    this.queueFlush();
  }

  private errorReply(err: unknown): ReplyError {
    if (err instanceof ReplyError) return err;
    this.options.onError?.(err, this);
    return new ReplyError(`${ErrorCode.ERR} internal error`);
  }

  /** Has the replies due written after this round of input (see {@link ReplyFlusher}). */
  private queueFlush(): void {
    if (this.writer.length === 0) {
      this.maybeEnd();
    } else if (!this.flushQueued) {
      this.flushQueued = true;
      this.flusher.add(this);
    }
  }

  /** Writes the replies due, in one write (or a corked series), then ends if it should. */
  flush(): void {
    this.flushQueued = false;
    const socket = this.socket;
    if (this.writer.length > 0) {
      const chunks = this.writer.take();
      if (!socket.destroyed) {
        if (chunks.length === 1) {
          const chunk = chunks[0] as Buffer;
          this.handed += chunk.length;
          socket.write(chunk);
        } else {
          socket.cork();
          for (const chunk of chunks) {
            this.handed += chunk.length;
            socket.write(chunk);
          }
          socket.uncork();
        }
      }
      // Written at once (the peer keeps up): no 'drain' is coming to resume reading.
      if (this.paused && !this.backedUp) {
        this.resume();
        return;
      }
    }
    this.maybeEnd();
  }

  private maybeEnd(): void {
    // Replies still to be written go first: their flush comes back here.
    if (!this.idle || this.socket.destroyed) return;
    if (this.protocolError) {
      const err = this.protocolError;
      this.protocolError = null;
      this.ending = true;
      this.socket.end(`-${ErrorCode.PROTO} ${err.message.replace(/[\r\n]/g, ' ')}\r\n`);
      // Keep reading (and ignoring) so the peer's FIN is seen and the socket closes.
      this.socket.resume();
      this.options.onProtocolError?.(err, this);
    } else if (this.ending) {
      this.socket.end();
      this.socket.resume();
    }
  }

  private pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.socket.pause();
  }

  private resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (!this.held && !this.ending && !this.protocolError) this.socket.resume();
    this.process();
  }

  /** Stops reading until the server has room for another command in flight. */
  private hold(): void {
    if (this.held) return;
    this.held = true;
    this.socket.pause();
    this.admission.hold(this);
  }

  /** The server has room again: dispatches what was held, reading again once it can. */
  wake(): void {
    this.held = false;
    if (this.socket.destroyed) return;
    // What was parsed first: at the bound that is one request per slot freed, and the
    // socket stays paused rather than flip on and off with each.
    this.process();
    if (!this.held && !this.paused && !this.ending && !this.protocolError) this.socket.resume();
  }
}

/** A server speaking RESP2, from {@link createRespServer}. */
export class RespServer {
  /** The underlying `net.Server` (a `tls.Server` when its {@link RespServerOptions.listen} makes one). */
  readonly server: Server;
  private readonly loops = new Map<Socket, ConnectionLoop>();
  /** Every accepted transport socket, served or not (refused, TLS handshake under way). */
  private readonly sockets = new Set<Socket>();
  private nextId = 1;
  private readonly sweep: NodeJS.Timeout | undefined;
  private readonly admission: Admission;
  private readonly flusher = new ReplyFlusher();

  constructor(options: RespServerOptions) {
    const resolved = { ...DEFAULTS, ...options };
    const limits = resolveLimits(options.limits);
    const admission = new Admission(resolved.maxInFlight, options.admitsAtBound, options.onHeld);
    this.admission = admission;
    this.server = (options.listen ?? listenTcp)((socket) => {
      if (this.loops.size >= resolved.maxConnections) {
        socket.on('error', () => undefined);
        // Closed once the refusal is written, whether or not the peer reads or closes.
        socket.end(`-${ErrorCode.ERR} max number of clients reached\r\n`, () => socket.destroy());
        return;
      }
      const loop = new ConnectionLoop(
        this.nextId++,
        socket,
        resolved,
        limits,
        admission,
        this.flusher,
      );
      this.loops.set(socket, loop);
      socket.once('close', () => this.loops.delete(socket));
    });
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    const timeoutMs = resolved.requestTimeoutMs;
    if (timeoutMs > 0) {
      // One timer per server, not per request: the request path pays a counter increment.
      this.sweep = setInterval(
        () => {
          const now = performance.now();
          for (const loop of this.loops.values()) loop.checkProgress(now, timeoutMs);
        },
        Math.min(1000, Math.max(10, Math.floor(timeoutMs / 4))),
      );
      this.sweep.unref();
    }
  }

  /** Number of open client connections. */
  get connectionCount(): number {
    return this.loops.size;
  }

  /**
   * Commands of connections not marked priority whose asynchronous replies are unfinished
   * (counted only while {@link RespServerOptions.maxInFlight} bounds them).
   */
  get inFlight(): number {
    return this.admission.inFlight;
  }

  /** Connections held back at {@link RespServerOptions.maxInFlight} right now. */
  get heldConnections(): number {
    return this.admission.heldCount;
  }

  /** Starts listening; resolves with the bound address (use port 0 for any free port). */
  listen(port: number, host = '127.0.0.1'): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  /**
   * Stops accepting connections, lets every connection finish the commands it has received
   * (reading no more), then closes it. Connections still open after `graceMs` are
   * destroyed, whatever their peers do, so this resolves within about `graceMs`.
   */
  async close(graceMs = 5000): Promise<void> {
    clearInterval(this.sweep);
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const loop of this.loops.values()) loop.close();
    const timer = setTimeout(() => {
      for (const socket of this.sockets) socket.destroy();
    }, graceMs);
    try {
      await closed;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Creates a RESP2 server around a command handler; call `listen` to start it. */
export function createRespServer(options: RespServerOptions): RespServer {
  return new RespServer(options);
}
