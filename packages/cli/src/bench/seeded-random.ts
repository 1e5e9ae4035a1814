import type { RandomSource } from './zipfian';

/**
 * A seeded uniform source in [0, 1) (mulberry32): the same seed gives the same sequence, so
 * `kv bench --seed n` sends the same keys and operations in the same order every run.
 * Not for anything that needs unpredictability.
 *
 * @param seed - any integer; only its low 32 bits are used
 */
export function seededRandom(seed: number): RandomSource {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
