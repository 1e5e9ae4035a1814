import { ProtocolError, ReplyError, TooLargeError } from './errors';
import { splitInline } from './inline';
import { resolveLimits, type ProtocolLimits } from './limits';
import * as cursor from './resp-cursor';
import { OK, SimpleString, type RespValue } from './types';

// Module-level copies: compiled to CommonJS, an imported name is a property load at every
// use, and these are read per argument in the parse loops.
const { CR, EMPTY, LF, TYPE, describeByte } = cursor;
const INCOMPLETE: typeof cursor.INCOMPLETE = cursor.INCOMPLETE;

/**
 * What the parser expects: `request` accepts arrays of bulk strings and inline commands
 * (what a server reads); `reply` accepts every RESP2 type (what a client reads).
 */
export type ParserMode = 'request' | 'reply';

/** A parsed request: its arguments, or the reason it cannot be served. */
export type ParsedRequest = Buffer[] | TooLargeError;

/** An array whose elements are still arriving. */
interface Frame {
  items: RespValue[];
  remaining: number;
  /** Set when a request argument was skipped for being over `maxBulkLength`. */
  tooLarge: TooLargeError | null;
  /** A request over `maxArguments`: its elements are read and dropped. */
  dropping: boolean;
}

/** Returned when an element needs no value of its own (array header, skipped line). */
const NOTHING = Symbol('nothing');
type Step = RespValue | ParsedRequest | typeof INCOMPLETE | typeof NOTHING;

/**
 * Incremental RESP2 parser. Feed it bytes in any chunking and it calls back once per complete
 * message, the same messages whatever the chunking. Bulk strings are views into the input,
 * not copies. A large bulk string arriving in many chunks is assembled once, when its last
 * byte has arrived.
 *
 * After a {@link ProtocolError} the parser is unusable: every later `feed` throws it again.
 */
export class RespParser<M extends ParserMode = ParserMode> extends cursor.RespCursor {
  readonly mode: M;
  /** Chunks held back while waiting for `needed` bytes of one long element. */
  private parked: Buffer[] = [];
  private parkedBytes = 0;
  private needed = 0;
  /** Bytes of an oversize request argument (plus its CRLF) still to be skipped. */
  private discard = 0;
  private discardError: TooLargeError | null = null;
  private readonly stack: Frame[] = [];
  /** Bytes consumed so far by the message being assembled. */
  private messageBytes = 0;
  private failure: ProtocolError | null = null;

  constructor(mode: M, limits?: Partial<ProtocolLimits>) {
    super(resolveLimits(limits));
    this.mode = mode;
  }

  /** True while a message has begun arriving and is not complete (or not yet skipped). */
  get midMessage(): boolean {
    return (
      this.stack.length > 0 ||
      this.pos < this.buf.length ||
      this.parkedBytes > 0 ||
      this.discard > 0
    );
  }

  /** Bytes received but not yet part of a complete message. */
  get bufferedBytes(): number {
    return this.messageBytes + this.buf.length - this.pos + this.parkedBytes;
  }

  /**
   * Parses `chunk`, calling `onMessage` for every message it completes.
   * @throws {@link ProtocolError} (or its subclass `LimitExceededError`) on malformed or over-limit input.
   */
  feed(
    chunk: Buffer,
    onMessage: (message: M extends 'request' ? ParsedRequest : RespValue) => void,
  ): void {
    if (this.failure) throw this.failure;
    try {
      this.consume(chunk, onMessage as (message: RespValue | ParsedRequest) => void);
    } catch (err) {
      if (err instanceof ProtocolError) this.failure = err;
      throw err;
    }
  }

  /** Forgets all buffered input and any failure, as after a reconnect. */
  reset(): void {
    this.buf = EMPTY;
    this.pos = 0;
    this.parked = [];
    this.parkedBytes = 0;
    this.needed = 0;
    this.discard = 0;
    this.discardError = null;
    this.stack.length = 0;
    this.messageBytes = 0;
    this.failure = null;
  }

  private consume(chunk: Buffer, onMessage: (message: RespValue | ParsedRequest) => void): void {
    for (;;) {
      if (this.discard > 0) {
        const skip = Math.min(this.discard, chunk.length);
        this.discard -= skip;
        chunk = chunk.subarray(skip);
        if (this.discard > 0) return;
        this.finishDiscard(onMessage);
      }
      const held = this.buf.length - this.pos + this.parkedBytes;
      if (held === 0) {
        this.buf = chunk;
        this.pos = 0;
        this.needed = 0;
        this.run(onMessage);
        return;
      }
      if (this.needed > 0 && held + chunk.length < this.needed) {
        this.parked.push(chunk);
        this.parkedBytes += chunk.length;
        this.checkBuffered();
        return;
      }
      // One element straddles the end of the previous input. Complete it with as few bytes
      // of this chunk as it needs (the rest of its bulk string, or up to the end of its
      // line), so the bulk of the chunk is parsed in place instead of copied.
      let take: number;
      if (this.needed > 0) {
        take = this.needed - held;
      } else {
        const lf = chunk.indexOf(LF);
        take = lf === -1 ? chunk.length : lf + 1;
      }
      this.buf = Buffer.concat([
        this.buf.subarray(this.pos),
        ...this.parked,
        chunk.subarray(0, take),
      ]);
      this.pos = 0;
      this.parked = [];
      this.parkedBytes = 0;
      this.needed = 0;
      chunk = chunk.subarray(take);
      this.run(onMessage);
      if (chunk.length === 0) return;
    }
  }

  private run(onMessage: (message: RespValue | ParsedRequest) => void): void {
    const buf = this.buf;
    while (this.pos < buf.length) {
      const start = this.pos;
      let value =
        this.stack.length === 0 && this.mode === 'request'
          ? this.readRequestStart()
          : this.readElement();
      if (value === INCOMPLETE) {
        this.pos = start;
        break;
      }
      const top = this.stack[this.stack.length - 1];
      // The elements of a request being dropped are not held: they do not count.
      if (top === undefined || !top.dropping) this.messageBytes += this.pos - start;
      if (this.discard > 0) {
        // An oversize argument: skip what is here, the rest in later chunks.
        const skip = Math.min(this.discard, buf.length - this.pos);
        this.pos += skip;
        this.discard -= skip;
        if (this.discard > 0) break;
        this.finishDiscard(onMessage);
        continue;
      }
      if (value === NOTHING) continue;
      // Bubble the finished value up through the arrays it completes.
      while (this.stack.length > 0) {
        const frame = this.stack[this.stack.length - 1] as Frame;
        if (!frame.dropping) frame.items.push(value as RespValue);
        if (--frame.remaining > 0) break;
        this.stack.pop();
        value = frame.tooLarge ?? frame.items;
      }
      if (this.stack.length === 0) {
        this.messageBytes = 0;
        onMessage(value as RespValue | ParsedRequest);
      }
    }
    this.checkBuffered();
  }

  private checkBuffered(): void {
    const held = this.bufferedBytes;
    if (held > this.limits.maxBufferedBytes) {
      throw this.overLimit('maxBufferedBytes', held, 'unfinished message');
    }
  }

  /** The skipped argument is over: count it as an element of its request. */
  private finishDiscard(onMessage: (message: RespValue | ParsedRequest) => void): void {
    const frame = this.stack[this.stack.length - 1] as Frame;
    frame.tooLarge ??= this.discardError;
    this.discardError = null;
    if (--frame.remaining > 0) return;
    this.stack.pop();
    this.messageBytes = 0;
    onMessage(frame.tooLarge as TooLargeError);
  }

  /** A request starts with `*` (multibulk) or is an inline command line. */
  private readRequestStart(): Step {
    const buf = this.buf;
    if (buf[this.pos] === TYPE.array) return this.readRequestArray();
    const lf = buf.indexOf(LF, this.pos);
    if (lf === -1) {
      const length = buf.length - this.pos;
      if (length > this.limits.maxInlineLength) {
        throw this.overLimit('maxInlineLength', length, 'inline command line');
      }
      return INCOMPLETE;
    }
    if (lf - this.pos > this.limits.maxInlineLength) {
      throw this.overLimit('maxInlineLength', lf - this.pos, 'inline command line');
    }
    const lineEnd = lf > this.pos && buf[lf - 1] === CR ? lf - 1 : lf;
    const line = buf.subarray(this.pos, lineEnd);
    this.pos = lf + 1;
    const args = splitInline(line);
    if (args.length > this.limits.maxArguments) return this.tooManyArguments(args.length);
    return args.length === 0 ? NOTHING : args;
  }

  private readElement(): Step {
    const type = this.buf[this.pos];
    if (this.mode === 'request' && type !== TYPE.bulk) {
      throw new ProtocolError(`expected '$' for a request argument, got ${describeByte(type)}`);
    }
    switch (type) {
      case TYPE.bulk:
        return this.readBulk();
      case TYPE.array:
        return this.readArrayHeader();
      case TYPE.simple: {
        const buf = this.buf;
        const p = this.pos;
        if (buf[p + 1] === 0x4f && buf[p + 2] === 0x4b && buf[p + 3] === CR && buf[p + 4] === LF) {
          this.pos = p + 5;
          return OK;
        }
        const line = this.readLine();
        return line === INCOMPLETE ? line : new SimpleString(line);
      }
      case TYPE.error: {
        const line = this.readLine();
        return line === INCOMPLETE ? line : new ReplyError(line);
      }
      case TYPE.integer:
        return this.readInteger();
      default:
        throw new ProtocolError(`unknown reply type byte ${describeByte(type)}`);
    }
  }

  private readBulk(): Step {
    const length = this.readLength('bulk');
    const dataStart = this.lineEnd;
    if (dataStart === -1) return INCOMPLETE;
    if (length === -1) {
      if (this.mode === 'request') throw new ProtocolError('null bulk string in a request');
      this.pos = dataStart;
      return null;
    }
    if (length > this.limits.maxBulkLength) {
      if (this.mode === 'reply') {
        throw this.overLimit('maxBulkLength', length, 'bulk string length');
      }
      this.pos = dataStart;
      this.discard = length + 2;
      this.discardError = new TooLargeError(length, this.limits.maxBulkLength);
      return NOTHING;
    }
    const dataEnd = dataStart + length;
    if (dataEnd + 2 > this.buf.length) {
      this.needed = dataEnd + 2 - this.pos;
      return INCOMPLETE;
    }
    if (this.buf[dataEnd] !== CR || this.buf[dataEnd + 1] !== LF) {
      throw new ProtocolError('bulk string not terminated by CRLF');
    }
    this.pos = dataEnd + 2;
    return this.buf.subarray(dataStart, dataEnd);
  }

  /** Reads `*n`; returns the value of an empty or null array, or NOTHING after pushing a frame. */
  private readArrayHeader(): Step {
    const count = this.readArrayLength();
    if (count === INCOMPLETE) return INCOMPLETE;
    if (count <= 0) {
      // An empty or null request is ignored, as Redis does.
      if (this.mode === 'request') return NOTHING;
      return count === 0 ? [] : null;
    }
    this.pushFrame([], count);
    return NOTHING;
  }

  private readArrayLength(): number | typeof INCOMPLETE {
    const count = this.readLength('array');
    if (this.lineEnd === -1) return INCOMPLETE;
    if (count > this.limits.maxArrayLength) {
      throw this.overLimit('maxArrayLength', count, 'array length');
    }
    this.pos = this.lineEnd;
    return count;
  }

  private pushFrame(items: RespValue[], remaining: number): void {
    if (this.stack.length >= this.limits.maxDepth) {
      throw this.overLimit('maxDepth', this.stack.length + 1, 'array nesting depth');
    }
    this.stack.push({ items, remaining, tooLarge: null, dropping: false });
  }

  private tooManyArguments(count: number): TooLargeError {
    const max = this.limits.maxArguments;
    return new TooLargeError(
      count,
      max,
      `request of ${count} arguments exceeds the limit of ${max} arguments`,
    );
  }

  /**
   * The common case of a request whose bytes have all arrived, read in one tight loop. When
   * the buffer ends early (or an argument is over the limit) the arguments read so far are
   * kept in a frame and the general element-by-element path takes over.
   */
  private readRequestArray(): Step {
    const count = this.readArrayLength();
    if (count === INCOMPLETE) return INCOMPLETE;
    if (count <= 0) return NOTHING;
    if (count > this.limits.maxArguments) {
      // Known from the header, before any argument arrives: nothing is allocated for them.
      this.stack.push({
        items: [],
        remaining: count,
        tooLarge: this.tooManyArguments(count),
        dropping: true,
      });
      return NOTHING;
    }
    const buf = this.buf;
    const end = buf.length;
    const max = this.limits.maxBulkLength;
    const args = new Array<Buffer>(count);
    let pos = this.pos;
    let k = 0;
    // Anything unusual (a malformed or oversize argument) stops the loop with `pos` at that
    // argument, and the general path reads it again to report it precisely.
    for (; k < count; k++) {
      if (pos >= end || buf[pos] !== TYPE.bulk) break;
      let i = pos + 1;
      let length = 0;
      for (; i < end; i++) {
        const d = (buf[i] as number) - 0x30;
        if (d < 0 || d > 9) break;
        length = length * 10 + d;
      }
      if (i === pos + 1 || i + 1 >= end || buf[i] !== CR || buf[i + 1] !== LF || length > max)
        break;
      const dataStart = i + 2;
      const dataEnd = dataStart + length;
      if (dataEnd + 2 > end || buf[dataEnd] !== CR || buf[dataEnd + 1] !== LF) break;
      args[k] = buf.subarray(dataStart, dataEnd);
      pos = dataEnd + 2;
    }
    this.pos = pos;
    if (k === count) return args;
    args.length = k;
    this.pushFrame(args, count - k);
    return NOTHING;
  }
}
