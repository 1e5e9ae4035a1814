import { LimitExceededError, ProtocolError } from './errors';
import type { ProtocolLimits } from './limits';

export const CR = 0x0d;
export const LF = 0x0a;
const MINUS = 0x2d;

/** The byte that opens each RESP2 element. */
export const TYPE = {
  simple: 0x2b, // +
  error: 0x2d, // -
  integer: 0x3a, // :
  bulk: 0x24, // $
  array: 0x2a, // *
} as const;

/** Returned by the element readers when the buffer ends before the element does. */
export const INCOMPLETE = Symbol('incomplete');

export const EMPTY = Buffer.alloc(0);

/** `'x'` for a printable byte, `0x1f` otherwise: how an unexpected byte is named in errors. */
export function describeByte(byte: number | undefined): string {
  if (byte === undefined) return 'end of input';
  return byte >= 0x20 && byte < 0x7f
    ? `'${String.fromCharCode(byte)}'`
    : `0x${byte.toString(16).padStart(2, '0')}`;
}

/**
 * A position in received bytes (`buf[pos..]`) and the readers of the line-shaped parts of
 * RESP2: a type byte followed by a decimal number or by text, then CRLF. The parser builds
 * messages out of these; keeping them apart leaves the parser with the framing alone.
 */
export abstract class RespCursor {
  /** Unparsed input: `buf[pos..]`. */
  protected buf: Buffer = EMPTY;
  protected pos = 0;
  /** Set by readLength: index just past the CRLF of the line it read, or -1 if incomplete. */
  protected lineEnd = -1;

  protected constructor(readonly limits: ProtocolLimits) {}

  /** The error for `actual` past the limit `name`; what was measured is `what`. */
  protected overLimit(
    name: keyof ProtocolLimits,
    actual: number,
    what: string,
  ): LimitExceededError {
    return new LimitExceededError(name, this.limits[name], actual, what);
  }

  /** Position of the CR ending the line that starts after the type byte, or -1 when not all here. */
  protected findLineEnd(): number {
    const buf = this.buf;
    const from = this.pos + 1;
    const cr = buf.indexOf(CR, from);
    if (cr === -1 || cr + 1 >= buf.length) {
      const length = buf.length - from;
      if (length > this.limits.maxInlineLength) {
        throw this.overLimit('maxInlineLength', length, 'header line');
      }
      return -1;
    }
    if (buf[cr + 1] !== LF) throw new ProtocolError('line not terminated by CRLF');
    return cr;
  }

  protected readLine(): string | typeof INCOMPLETE {
    const cr = this.findLineEnd();
    if (cr === -1) return INCOMPLETE;
    const text = this.buf.toString('utf8', this.pos + 1, cr);
    this.pos = cr + 2;
    return text;
  }

  /** Reads the decimal number of a `$`, `*` or `:` line; NaN when it is not a valid number. */
  private readNumber(cr: number): number {
    const buf = this.buf;
    let i = this.pos + 1;
    const negative = buf[i] === MINUS;
    if (negative) i++;
    if (i === cr || cr - i > 15) return Number.NaN;
    let n = 0;
    for (; i < cr; i++) {
      const d = (buf[i] as number) - 0x30;
      if (d < 0 || d > 9) return Number.NaN;
      n = n * 10 + d;
    }
    return negative ? -n : n;
  }

  protected readInteger(): number | bigint | typeof INCOMPLETE {
    const cr = this.findLineEnd();
    if (cr === -1) return INCOMPLETE;
    let n: number | bigint = this.readNumber(cr);
    if (Number.isNaN(n)) {
      const text = this.buf.toString('latin1', this.pos + 1, cr);
      if (!/^-?\d{1,19}$/.test(text))
        throw new ProtocolError(`invalid integer ${JSON.stringify(text)}`);
      const big = BigInt(text);
      n =
        big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER)
          ? Number(big)
          : big;
    }
    this.pos = cr + 2;
    return n;
  }

  /**
   * Reads the decimal length after the type byte at `pos` and its CRLF in one pass. Sets
   * `lineEnd` to the index after the CRLF, or -1 when the line is not all here yet.
   */
  protected readLength(what: string): number {
    const buf = this.buf;
    const end = buf.length;
    let i = this.pos + 1;
    const negative = buf[i] === MINUS;
    if (negative) i++;
    const digits = i;
    let n = 0;
    for (; i < end; i++) {
      const c = buf[i] as number;
      if (c === CR) break;
      const d = c - 0x30;
      if (d < 0 || d > 9 || i - digits >= 15) this.invalid(what);
      n = n * 10 + d;
    }
    if (i + 1 >= end) {
      this.lineEnd = -1;
      return 0;
    }
    if (buf[i + 1] !== LF) throw new ProtocolError('line not terminated by CRLF');
    if (i === digits) this.invalid(what);
    const value = negative ? -n : n;
    if (value < -1) this.invalid(what);
    this.lineEnd = i + 2;
    return value;
  }

  private invalid(what: string): never {
    const from = this.pos + 1;
    const cr = this.buf.indexOf(CR, from);
    const text = this.buf.toString(
      'latin1',
      from,
      cr === -1 ? Math.min(this.buf.length, from + 32) : cr,
    );
    throw new ProtocolError(`invalid ${what} length ${JSON.stringify(text)}`);
  }
}
