import { createHash } from 'node:crypto';

/** Token of a key: the leading 48 bits of its SHA-256 digest, big-endian. */
export function token(key: string | Uint8Array): number {
  return createHash('sha256').update(key).digest().readUIntBE(0, 6);
}
