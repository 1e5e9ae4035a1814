import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { referenceToken } from './test-support/reference';
import { token, TOKEN_SPACE } from './token';

describe('token', () => {
  it('takes the leading 48 bits of SHA-256, big-endian', () => {
    // sha256("") = e3b0c44298fc1c14..., sha256("abc") = ba7816bf8f01cfea...
    expect(token('')).toBe(0xe3b0c44298fc);
    expect(token('abc')).toBe(0xba7816bf8f01);
  });

  it('hashes a string as its UTF-8 bytes', () => {
    expect(token('é')).toBe(token(Uint8Array.of(0xc3, 0xa9)));
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        expect(token(s)).toBe(token(Buffer.from(s, 'utf8')));
      }),
    );
  });

  it('accepts Buffer and plain Uint8Array keys alike', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        expect(token(bytes)).toBe(token(Buffer.from(bytes)));
      }),
    );
  });

  it('is an integer in [0, 2^48) equal to the digest prefix', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.uint8Array()), (key) => {
        const t = token(key);
        expect(Number.isInteger(t)).toBe(true);
        expect(t).toBeGreaterThanOrEqual(0);
        expect(t).toBeLessThan(TOKEN_SPACE);
        expect(t).toBe(referenceToken(key));
      }),
    );
  });

  it('encodes a lone surrogate as U+FFFD, as UTF-8 encoders do', () => {
    expect(token('\ud800')).toBe(token('\ufffd'));
  });
});
