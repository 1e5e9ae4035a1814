import { createHmac } from 'node:crypto';
import {
  MEMBER_AUTH_CONTEXT,
  NONCE_BYTES,
  createNonce,
  memberProof,
  verifyMemberProof,
} from './member-auth';

const SECRET = Buffer.from('a cluster secret of enough bytes');

/** A random source that counts up, so every nonce is known in advance. */
function counting(): (n: number) => Buffer {
  let next = 0;
  return (n) => Buffer.from(Array.from({ length: n }, () => next++ % 256));
}

describe('createNonce', () => {
  it('is the random bytes in hex, fresh on each call', () => {
    const random = counting();
    const first = createNonce(random);
    const second = createNonce(random);
    expect(first).toBe(
      Buffer.from(Array.from({ length: NONCE_BYTES }, (_, i) => i)).toString('hex'),
    );
    expect(first).toHaveLength(NONCE_BYTES * 2);
    expect(second).not.toBe(first);
  });

  it('refuses a random source that gives too few bytes', () => {
    expect(() => createNonce(() => Buffer.alloc(4))).toThrow(/needs 32 random bytes, got 4/);
  });
});

describe('memberProof and verifyMemberProof', () => {
  const nonce = createNonce(counting());

  it('is HMAC-SHA256 of the context label and the nonce, keyed by the secret', () => {
    const expected = createHmac('sha256', SECRET)
      .update(`${MEMBER_AUTH_CONTEXT}\n${nonce}`)
      .digest('hex');
    expect(memberProof(SECRET, nonce)).toBe(expected);
    expect(verifyMemberProof(SECRET, nonce, expected)).toBe(true);
    expect(verifyMemberProof(SECRET, nonce, Buffer.from(expected))).toBe(true);
  });

  it('refuses a proof made with another secret, for another nonce, or altered', () => {
    const proof = memberProof(SECRET, nonce);
    expect(
      verifyMemberProof(
        SECRET,
        createNonce(() => Buffer.alloc(32, 7)),
        proof,
      ),
    ).toBe(false);
    expect(verifyMemberProof(Buffer.from('another secret of enough bytes!'), nonce, proof)).toBe(
      false,
    );
    const flipped = (proof[0] === 'a' ? 'b' : 'a') + proof.slice(1);
    expect(verifyMemberProof(SECRET, nonce, flipped)).toBe(false);
    expect(verifyMemberProof(SECRET, nonce, proof.slice(0, 63))).toBe(false);
    expect(verifyMemberProof(SECRET, nonce, proof.toUpperCase())).toBe(false);
    expect(verifyMemberProof(SECRET, nonce, '')).toBe(false);
  });
});
