import type { Ring } from '@kv/ring';
import type { Key } from './key-router';

/**
 * Most keys one request carries: a node's limit per multi-key command (more are refused
 * with `-TOOLARGE`).
 */
export const MAX_KEYS_PER_REQUEST = 1024;

/**
 * Most bytes of keys and values one request carries: well under a node's limit on one
 * message (32 MiB by default, past which it closes the connection with `-PROTO`).
 */
export const MAX_BYTES_PER_REQUEST = 8 * 1024 * 1024;

/**
 * Splits keys into batches that each go to one node: by primary, so each batch goes
 * straight to a node holding every one of its keys, at most
 * {@link MAX_KEYS_PER_REQUEST} per batch and, when `bytesOf` tells the size of each
 * position's key and value, at most {@link MAX_BYTES_PER_REQUEST} of them (a larger single
 * pair goes alone). A batch lists the keys' positions in `keys`.
 */
export function batchByPrimary(
  ring: Ring,
  keys: readonly Key[],
  bytesOf: (position: number) => number = () => 0,
): number[][] {
  const byPrimary = new Map<string, number[]>();
  keys.forEach((key, i) => {
    const primary = ring.primary(key);
    const batch = byPrimary.get(primary);
    if (batch) batch.push(i);
    else byPrimary.set(primary, [i]);
  });
  const batches: number[][] = [];
  for (const positions of byPrimary.values()) {
    let batch: number[] = [];
    let bytes = 0;
    for (const position of positions) {
      const size = bytesOf(position);
      if (
        batch.length === MAX_KEYS_PER_REQUEST ||
        (batch.length > 0 && bytes + size > MAX_BYTES_PER_REQUEST)
      ) {
        batches.push(batch);
        batch = [];
        bytes = 0;
      }
      batch.push(position);
      bytes += size;
    }
    if (batch.length > 0) batches.push(batch);
  }
  return batches;
}
