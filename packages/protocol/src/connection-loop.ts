import { Deque } from './deque';
import { ErrorCode, ProtocolError, ReplyError, TooLargeError } from './errors';
import type { ProtocolLimits } from './limits';
import { RespParser, type ParsedRequest } from './parser';
import { ConnectionTimeouts } from './peer-progress';
import type { ReplyFlusher } from './reply-flusher';
import { replyBytes } from './reply-size';
import { CountedReplies, type Admission } from './server-admission';
import type { DEFAULTS, RespServerOptions, ServerConnection } from './server-options';
import { readChunks, type ChunkReader, type ReadPath } from './socket-reads';
import { TLS_HANDSHAKE, type Socket, type TLSSocket } from './transport';
import type { Reply } from './types';
import { RespWriter } from './writer';

/** A command whose asynchronous reply is not known yet, held to keep replies in order. */
interface Slot {
  done: boolean;
  value: Reply;
  /** Whether it counts towards the server's commands in flight. */
  counted: boolean;
}

function isPromise(value: unknown): value is Promise<Reply> {
  return typeof (value as Promise<Reply> | null)?.then === 'function';
}

/** Runs the parse–dispatch–reply loop of one socket. */
export class ConnectionLoop implements ServerConnection {
  readonly locals: Record<string, unknown> = {};
  readonly remoteAddress: string;
  readonly readPath: ReadPath;
  private readonly reader: ChunkReader;
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
  /** Bytes of replies taken for the durability gate and not yet written. */
  private gatedBytes = 0;
  /** Replies made at once but counted in flight until written (see {@link dispatch}). */
  private readonly counted: CountedReplies;
  /** Whether this connection waits in the {@link ReplyFlusher} to write its replies. */
  private flushQueued = false;
  /** Reading stopped for this connection's own backlog (replies unsent or unfinished). */
  private paused = false;
  /** Reading stopped because the server is at its bound of commands in flight. */
  private held = false;
  priority = false;
  private ending = false;
  private protocolError: ProtocolError | null = null;
  /** Requests received whole, bytes received, reply bytes handed to the socket: progress. */
  private received = 0;
  private bytesIn = 0;
  private handed = 0;
  private readonly timeouts: ConnectionTimeouts;
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
    this.counted = new CountedReplies(admission, flusher.gated);
    this.timeouts = new ConnectionTimeouts(options.requestTimeoutMs, options.idleTimeoutMs);
    this.parser = new RespParser('request', limits);
    socket.setNoDelay(true);
    this.reader = readChunks(socket, (chunk) => this.onData(chunk));
    this.readPath = this.reader.path;
    socket.on('drain', () => this.resume());
    socket.on('error', () => undefined); // ECONNRESET, EPIPE: 'close' follows and cleans up.
    socket.once('close', () => admission.forget(this));
    if (options.onClose) socket.once('close', () => options.onClose?.(this, this.ending));
  }

  /** Nothing received is unanswered, and no reply waits to be written. */
  get idle(): boolean {
    return (
      this.slots.length === 0 &&
      this.inboxPos === this.inbox.length &&
      this.writer.length === 0 &&
      this.gatedBytes === 0
    );
  }

  /**
   * Run a few times per request and idle timeout by RespServer's sweep, off the request path:
   * closes the connection past either ({@link ConnectionTimeouts}), the request one with -TIMEOUT.
   */
  check(now: number): void {
    const socket = this.socket;
    if (socket.destroyed) return;
    const unsent = socket.writableLength;
    const expired = this.timeouts.expired(now, {
      received: this.received,
      bytesIn: this.bytesIn,
      taken: this.handed - unsent,
      // While reading is paused or held the rest of a request waits on this server, not on
      // the peer; but replies it does not read are on the peer.
      owing: this.paused || this.held ? unsent > 0 : this.parser.midMessage,
      idle: this.idle,
    });
    if (expired === undefined) return;
    this.ending = true;
    if (expired === 'request') {
      const ms = this.options.requestTimeoutMs;
      socket.write(
        `-${ErrorCode.TIMEOUT} request not completed in ${ms} ms: connection closed\r\n`,
      );
    }
    socket.destroy();
  }

  prioritize(): void {
    this.priority = true;
  }

  close(): void {
    if (this.ending) return;
    this.ending = true;
    this.reader.pause();
    this.maybeEnd();
  }

  private onData(chunk: Buffer): void {
    this.bytesIn += chunk.length;
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
      this.reader.pause();
    }
    this.process();
  }

  /**
   * A TLS client on a plain port: a `-PROTO` reply would reach it as garbage, so the socket is
   * cut at once; the client reports a failed handshake rather than wait out its timeout.
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
      this.socket.writableLength + this.writer.length + this.heldBytes + this.gatedBytes >
        this.options.maxOutputBytes
    );
  }

  private process(): void {
    const admission = this.admission;
    // A closed connection's requests not yet dispatched are dropped: no reply would reach.
    while (this.inboxPos < this.inbox.length && !this.socket.destroyed) {
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
    } else {
      // A reply the durability gate may hold is a command still in flight, counted until
      // written: --max-in-flight then bounds what a slow disk lets clients pile up.
      const counted = this.counted.active && !this.priority;
      if (counted) this.admission.inFlight++;
      if (this.slots.length > 0) {
        this.heldBytes += replyBytes(result);
        this.slots.push({ done: true, value: result, counted });
      } else {
        this.writer.reply(result);
        if (counted) this.counted.add();
      }
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
        // A reply made at once behind this one: counted until written (see dispatch).
        if (next.counted) this.counted.add();
      }
    } else {
      this.heldBytes += replyBytes(value);
    }
    if (slot.counted) {
      slot.counted = false; // Its count ends here, not again when it is written.
      this.admission.release();
    }
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
    const chunks = this.writer.length === 0 ? undefined : this.writer.take();
    // Released first: reading resumed by the write must not find its own replies in flight.
    this.counted.releaseUntaken();
    if (chunks) this.write(chunks);
    else this.maybeEnd();
  }

  /**
   * Takes the replies due, to be written by {@link send} once the server's durability gate
   * opens (see ReplyFlusher); they count towards the connection's output meanwhile.
   */
  takeReplies(): Buffer[] {
    this.flushQueued = false;
    this.counted.takeRound();
    if (this.writer.length === 0) return [];
    const chunks = this.writer.take();
    for (const chunk of chunks) this.gatedBytes += chunk.length;
    return chunks;
  }

  /** Writes replies taken by {@link takeReplies}. */
  send(chunks: Buffer[]): void {
    this.counted.releaseRound();
    if (chunks.length === 0) this.maybeEnd();
    else {
      this.ungate(chunks);
      this.write(chunks);
    }
  }

  /** Replies taken by {@link takeReplies} cannot be sent: the connection is closed. */
  abandon(chunks: Buffer[]): void {
    this.ungate(chunks);
    this.ending = true;
    this.socket.destroy();
    this.counted.releaseRound();
  }

  /** Replies taken by {@link takeReplies} no longer count as held for the gate. */
  private ungate(chunks: Buffer[]): void {
    for (const chunk of chunks) this.gatedBytes -= chunk.length;
  }

  private write(chunks: Buffer[]): void {
    const socket = this.socket;
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
    this.maybeEnd();
  }

  private maybeEnd(): void {
    // Nothing to end, or replies still to write first (their flush comes back here).
    if ((!this.protocolError && !this.ending) || !this.idle || this.socket.destroyed) return;
    if (this.protocolError) {
      const err = this.protocolError;
      this.protocolError = null;
      this.ending = true;
      this.socket.end(`-${ErrorCode.PROTO} ${err.message.replace(/[\r\n]/g, ' ')}\r\n`);
      // Keep reading (and ignoring) so the peer's FIN is seen and the socket closes.
      this.reader.resume();
      this.options.onProtocolError?.(err, this);
    } else if (this.ending) {
      this.socket.end();
      this.reader.resume();
    }
  }

  private pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.reader.pause();
  }

  private resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (!this.held && !this.ending && !this.protocolError) this.reader.resume();
    this.process();
  }

  /** Stops reading until the server has room for another command in flight. */
  private hold(): void {
    if (this.held) return;
    this.held = true;
    this.reader.pause();
    this.admission.hold(this);
  }

  /** The server has room again: dispatches what was held, reading again once it can. */
  wake(): void {
    this.held = false;
    if (this.socket.destroyed) return;
    // Parsed requests first: one per slot freed at the bound, reading staying paused meanwhile.
    this.process();
    if (!this.held && !this.paused && !this.ending && !this.protocolError) this.reader.resume();
  }
}
