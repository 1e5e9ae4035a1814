import { ProtocolError } from './errors';

const SPACE = 0x20;
const DQUOTE = 0x22;
const SQUOTE = 0x27;
const BACKSLASH = 0x5c;

function isSpace(c: number): boolean {
  // The whitespace C's isspace() knows: space, \t \n \v \f \r.
  return c === SPACE || (c >= 0x09 && c <= 0x0d);
}

function hexDigit(c: number | undefined): number {
  if (c === undefined) return -1;
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/** Position after the closing quote at `i`, which must be followed by whitespace or the end. */
function closeQuote(line: Uint8Array, i: number): number {
  const after = line[i + 1];
  if (after !== undefined && !isSpace(after)) {
    throw new ProtocolError('closing quote must be followed by a space in inline command');
  }
  return i + 1;
}

const ESCAPES: Record<number, number> = {
  0x6e: 0x0a, // \n
  0x72: 0x0d, // \r
  0x74: 0x09, // \t
  0x62: 0x08, // \b
  0x61: 0x07, // \a
};

/**
 * Splits one inline command line into arguments with redis-cli's rules: words are separated
 * by whitespace; `"double quotes"` group words and understand `\n \r \t \b \a \" \\` and
 * `\xHH`; `'single quotes'` group words and understand only `\'`. A closing quote must be
 * followed by whitespace or the end of the line.
 *
 * @throws {@link ProtocolError} on an unterminated quote or a closing quote followed by a
 * non-space character.
 */
export function splitInline(line: Uint8Array): Buffer[] {
  const args: Buffer[] = [];
  const end = line.length;
  let i = 0;
  // Reused scratch space: an argument is never longer than the line.
  const out = Buffer.allocUnsafe(end);
  while (i < end) {
    while (i < end && isSpace(line[i] as number)) i++;
    if (i >= end) break;
    let n = 0;
    let inDouble = false;
    let inSingle = false;
    for (;;) {
      if (i >= end) {
        if (inDouble || inSingle) throw new ProtocolError('unbalanced quotes in inline command');
        break;
      }
      const c = line[i] as number;
      if (inDouble) {
        if (c === BACKSLASH && i + 1 < end) {
          const next = line[i + 1] as number;
          const hi = next === 0x78 ? hexDigit(line[i + 2]) : -1;
          const lo = next === 0x78 ? hexDigit(line[i + 3]) : -1;
          if (hi >= 0 && lo >= 0) {
            out[n++] = hi * 16 + lo;
            i += 4;
          } else {
            out[n++] = ESCAPES[next] ?? next;
            i += 2;
          }
          continue;
        }
        if (c === DQUOTE) {
          i = closeQuote(line, i);
          break;
        }
        out[n++] = c;
        i++;
      } else if (inSingle) {
        if (c === BACKSLASH && line[i + 1] === SQUOTE) {
          out[n++] = SQUOTE;
          i += 2;
          continue;
        }
        if (c === SQUOTE) {
          i = closeQuote(line, i);
          break;
        }
        out[n++] = c;
        i++;
      } else {
        if (isSpace(c)) break;
        if (c === DQUOTE) inDouble = true;
        else if (c === SQUOTE) inSingle = true;
        else out[n++] = c;
        i++;
      }
    }
    args.push(Buffer.from(out.subarray(0, n)));
  }
  return args;
}
