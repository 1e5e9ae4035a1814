import { ReplyError } from './errors';
import { SimpleString, type CommandArg, type Reply } from './types';

const CRLF = 0x0a0d; // little-endian "\r\n" for writeUInt16LE
const SLAB_SIZE = 64 * 1024;
/** Bulk strings at least this long are passed through as their own chunk instead of copied. */
const ZERO_COPY_MIN = 16 * 1024;
/** Status and error lines up to this many chars are tried as plain ASCII first. */
const SHORT_LINE = 64;

/**
 * Encodes RESP2 into a list of Buffers with as few allocations and copies as possible:
 * small items are packed into a shared slab, large bulk strings are passed through
 * untouched. {@link RespWriter.take} hands over everything written so far, ready for one
 * `socket.write` (one chunk) or a corked series of writes.
 */
export class RespWriter {
  private chunks: Buffer[] = [];
  private slab: Buffer = Buffer.allocUnsafe(SLAB_SIZE);
  /** Start of the bytes in `slab` not yet handed out by take(). */
  private start = 0;
  private pos = 0;
  private pendingBytes = 0;

  /** Bytes written and not yet taken. */
  get length(): number {
    return this.pendingBytes + this.pos - this.start;
  }

  /** Hands over what was written, as a list of chunks in order, and starts afresh. */
  take(): Buffer[] {
    this.cutSlab();
    const out = this.chunks;
    this.chunks = [];
    this.pendingBytes = 0;
    return out;
  }

  /** Like {@link take}, as one Buffer (copies only when there is more than one chunk). */
  takeBuffer(): Buffer {
    const chunks = this.take();
    return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
  }

  /** `+text\r\n`. CR and LF in `text` are replaced by spaces so the line stays one line. */
  simple(text: string): this {
    return this.line(0x2b, text);
  }

  /** `-text\r\n`, e.g. `error('ERR unknown command')`. CR and LF become spaces. */
  error(text: string): this {
    return this.line(0x2d, text);
  }

  /** `:n\r\n`. */
  integer(n: number | bigint): this {
    if (typeof n === 'number' && !Number.isInteger(n)) throw new RangeError(`not an integer: ${n}`);
    const text = n.toString();
    this.ensure(text.length + 3);
    this.slab[this.pos++] = 0x3a;
    this.pos += this.slab.write(text, this.pos, 'latin1');
    this.crlf();
    return this;
  }

  /** `$len\r\nbytes\r\n`; strings are sent as UTF-8. */
  bulk(value: Uint8Array | string): this {
    if (typeof value === 'string') {
      const length = Buffer.byteLength(value);
      this.header(0x24, length);
      this.ensure(length + 2);
      this.pos += this.slab.write(value, this.pos, length, 'utf8');
      this.crlf();
      return this;
    }
    this.header(0x24, value.length);
    if (value.length >= ZERO_COPY_MIN) {
      this.cutSlab();
      this.chunks.push(
        Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.length),
      );
      this.pendingBytes += value.length;
      this.ensure(2);
    } else {
      this.ensure(value.length + 2);
      this.slab.set(value, this.pos);
      this.pos += value.length;
    }
    this.crlf();
    return this;
  }

  /** `$-1\r\n`, the null bulk string (not found). */
  nullBulk(): this {
    return this.header(0x24, -1);
  }

  /** `*-1\r\n`, the null array. */
  nullArray(): this {
    return this.header(0x2a, -1);
  }

  /** `*n\r\n`; the caller writes the n elements next. */
  arrayHeader(n: number): this {
    return this.header(0x2a, n);
  }

  /** A request: an array of bulk strings. Numbers are sent in decimal. */
  command(args: readonly CommandArg[]): this {
    this.header(0x2a, args.length);
    for (const arg of args) this.bulk(typeof arg === 'number' ? String(arg) : arg);
    return this;
  }

  /** Any reply value; see {@link Reply} for how each JS type is sent. */
  reply(value: Reply): this {
    if (value === null) return this.nullBulk();
    if (value instanceof Uint8Array || typeof value === 'string') return this.bulk(value);
    if (typeof value === 'number' || typeof value === 'bigint') return this.integer(value);
    if (value instanceof SimpleString) return this.simple(value.value);
    if (value instanceof ReplyError) return this.error(value.message);
    this.arrayHeader(value.length);
    for (const item of value) this.reply(item);
    return this;
  }

  private header(type: number, n: number): this {
    this.ensure(24);
    const slab = this.slab;
    slab[this.pos++] = type;
    if (n < 0) {
      slab[this.pos++] = 0x2d;
      n = -n;
    }
    if (n < 10) {
      slab[this.pos++] = 0x30 + n;
    } else {
      this.pos += slab.write(String(n), this.pos, 'latin1');
    }
    this.crlf();
    return this;
  }

  private line(type: number, text: string): this {
    // Status lines and most errors are short ASCII (`+OK`): copied a char at a time.
    if (text.length <= SHORT_LINE) {
      this.ensure(text.length + 3);
      const slab = this.slab;
      const start = this.pos;
      let pos = start + 1;
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c >= 0x80 || c === 0x0d || c === 0x0a) {
          pos = -1;
          break;
        }
        slab[pos++] = c;
      }
      if (pos !== -1) {
        slab[start] = type;
        this.pos = pos;
        this.crlf();
        return this;
      }
    }
    const safe = /[\r\n]/.test(text) ? text.replace(/[\r\n]/g, ' ') : text;
    const length = Buffer.byteLength(safe);
    this.ensure(length + 3);
    this.slab[this.pos++] = type;
    this.pos += this.slab.write(safe, this.pos, length, 'utf8');
    this.crlf();
    return this;
  }

  private crlf(): void {
    this.slab.writeUInt16LE(CRLF, this.pos);
    this.pos += 2;
  }

  /** Makes room for n more bytes in the slab. */
  private ensure(n: number): void {
    if (this.slab.length - this.pos >= n) return;
    this.cutSlab();
    this.slab = Buffer.allocUnsafe(Math.max(SLAB_SIZE, n));
    this.start = 0;
    this.pos = 0;
  }

  /** Moves the slab's unhanded bytes into the chunk list. */
  private cutSlab(): void {
    if (this.pos > this.start) {
      this.chunks.push(this.slab.subarray(this.start, this.pos));
      this.pendingBytes += this.pos - this.start;
      this.start = this.pos;
    }
  }
}

const shared = new RespWriter();

function encodeWith(write: (writer: RespWriter) => void): Buffer {
  try {
    write(shared);
    return shared.takeBuffer();
  } catch (err) {
    shared.take(); // drop the partial encoding
    throw err;
  }
}

/** Encodes a command (array of bulk strings) into one Buffer. */
export function encodeCommand(args: readonly CommandArg[]): Buffer {
  return encodeWith((w) => w.command(args));
}

/** Encodes a reply value into one Buffer; see {@link Reply}. */
export function encodeReply(value: Reply): Buffer {
  return encodeWith((w) => w.reply(value));
}
