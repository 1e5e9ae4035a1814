import { StringDecoder } from 'node:string_decoder';

/** Longest line kept whole; a longer one is passed on in pieces of this size. */
export const MAX_LINE_LENGTH = 64 * 1024;

/**
 * Cuts a byte stream into whole lines (without their `\n` or `\r\n`), so output of several
 * processes can be merged line by line without half lines interleaving. Multi-byte UTF-8
 * characters split across chunks are kept intact. Memory is bounded: a line longer than
 * `maxLineLength` is passed on in pieces.
 */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private readonly maxLineLength: number;
  private partial = '';

  constructor(maxLineLength = MAX_LINE_LENGTH) {
    this.maxLineLength = maxLineLength;
  }

  /** Adds a chunk; returns the lines it completed. */
  push(chunk: Buffer | string): string[] {
    const text = this.partial + (typeof chunk === 'string' ? chunk : this.decoder.write(chunk));
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    const out = lines.map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
    while (this.partial.length > this.maxLineLength) {
      out.push(this.partial.slice(0, this.maxLineLength));
      this.partial = this.partial.slice(this.maxLineLength);
    }
    return out;
  }

  /** Ends the stream; returns the last line if it had no newline. */
  end(): string[] {
    const rest = this.partial + this.decoder.end();
    this.partial = '';
    return rest === '' ? [] : [rest];
  }
}
