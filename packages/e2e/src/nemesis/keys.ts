/**
 * The keys of the single-writer workload. Each client writes only its own keys, a few at
 * a time: a key takes a seeded number of writes, then its client moves on to a fresh
 * one. So many keys end their life at different moments of a run, during faults too, and
 * the value each one keeps is checked at the end (a key written to the end of the run
 * would hide what a fault did to it under later writes).
 */

export const WORKLOAD_CLIENTS = 8;
/** Keys a client writes at a time. */
export const KEYS_PER_CLIENT = 3;
/** Fewest and most writes a key takes before its client moves on to a fresh one. */
export const WRITES_PER_KEY = [1, 8] as const;

/** `c3:k1.4`: client 3's fifth key in slot 1. */
export function keyName(client: number, slot: number, generation: number): string {
  return `c${client}:k${slot}.${generation}`;
}

/** The first key of every slot of every client. */
export function firstKeys(): string[] {
  return Array.from({ length: WORKLOAD_CLIENTS }, (_, c) =>
    Array.from({ length: KEYS_PER_CLIENT }, (__, s) => keyName(c, s, 0)),
  ).flat();
}
