import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Bound into every member proof, so a proof made for kv's member challenge is never valid
 * anywhere else the same secret might be used, and a later scheme can change the label.
 */
export const MEMBER_AUTH_CONTEXT = 'kv-member-auth-v1';

/** Random bytes in a challenge nonce (sent as 64 hex characters). */
export const NONCE_BYTES = 32;

/** Fewest bytes a cluster secret may have. */
export const MIN_SECRET_BYTES = 16;

/** Makes `n` random bytes; `crypto.randomBytes` unless a test injects its own. */
export type RandomSource = (n: number) => Buffer;

/** A fresh challenge nonce: {@link NONCE_BYTES} random bytes as lower-case hex. */
export function createNonce(random: RandomSource = randomBytes): string {
  const bytes = random(NONCE_BYTES);
  if (bytes.length !== NONCE_BYTES)
    throw new RangeError(`a nonce needs ${NONCE_BYTES} random bytes, got ${bytes.length}`);
  return bytes.toString('hex');
}

/**
 * The answer to a challenge: HMAC-SHA256 keyed by the cluster secret over
 * `kv-member-auth-v1\n<nonce>`, as lower-case hex. Only a holder of the secret can make
 * it, and it is worth nothing for any other nonce.
 */
export function memberProof(secret: Buffer, nonce: string): string {
  return createHmac('sha256', secret).update(`${MEMBER_AUTH_CONTEXT}\n${nonce}`).digest('hex');
}

/**
 * Whether `proof` answers `nonce` under `secret`. Compares in constant time, so the time
 * taken tells nothing of how much of a forged proof was right.
 */
export function verifyMemberProof(secret: Buffer, nonce: string, proof: Buffer | string): boolean {
  const expected = Buffer.from(memberProof(secret, nonce), 'latin1');
  const given = typeof proof === 'string' ? Buffer.from(proof, 'latin1') : proof;
  return given.length === expected.length && timingSafeEqual(given, expected);
}
