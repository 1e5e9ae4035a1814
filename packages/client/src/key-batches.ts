import type { Ring } from '@kv/ring';
import type { Key } from './key-router';

/**
 * Most keys one request carries: a node's limit per multi-key command (more are refused
 * with `-TOOLARGE`).
 */
export const MAX_KEYS_PER_REQUEST = 1024;

/**
 * Splits keys into batches that each go to one node: by primary, so each batch goes
 * straight to a node holding every one of its keys, and at most
 * {@link MAX_KEYS_PER_REQUEST} per batch. A batch lists the keys' positions in `keys`.
 */
export function batchByPrimary(ring: Ring, keys: readonly Key[]): number[][] {
  const byPrimary = new Map<string, number[]>();
  keys.forEach((key, i) => {
    const primary = ring.primary(key);
    const batch = byPrimary.get(primary);
    if (batch) batch.push(i);
    else byPrimary.set(primary, [i]);
  });
  const batches: number[][] = [];
  for (const positions of byPrimary.values())
    for (let i = 0; i < positions.length; i += MAX_KEYS_PER_REQUEST)
      batches.push(positions.slice(i, i + MAX_KEYS_PER_REQUEST));
  return batches;
}
