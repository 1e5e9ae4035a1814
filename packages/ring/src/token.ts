import { hash } from 'node:crypto';

/** Width of a token in bits. */
export const TOKEN_BITS = 48;

/** Size of the token space: every token is an integer in `[0, TOKEN_SPACE)`. */
export const TOKEN_SPACE = 2 ** TOKEN_BITS;

/**
 * Token of a key: the first 6 bytes (48 bits) of its SHA-256 digest, read as an unsigned
 * big-endian integer, so a value in `[0, 2^48)` that a double holds exactly.
 *
 * A string hashes as its UTF-8 bytes, so `token('é')` equals
 * `token(Buffer.from('é', 'utf8'))`. A lone surrogate encodes as U+FFFD, as in every
 * UTF-8 encoder.
 */
export function token(key: string | Uint8Array): number {
  // A 'binary' (latin1) string holds one digest byte per char code. Asking for it rather than a
  // Buffer saves an allocation per call and makes lookups about three times faster.
  const d = hash('sha256', key, 'binary');
  const high = (d.charCodeAt(0) << 8) | d.charCodeAt(1);
  const low =
    ((d.charCodeAt(2) << 24) |
      (d.charCodeAt(3) << 16) |
      (d.charCodeAt(4) << 8) |
      d.charCodeAt(5)) >>>
    0;
  return high * 0x1_0000_0000 + low;
}
