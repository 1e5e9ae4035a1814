import { send, withConnection } from './resp';
import { waitFor } from './wait';

// Writing a node until its disk (or the size its files may reach) is full, and checking
// what it acknowledged afterwards.

/** The value written: 2 KB, so a few thousand fill a 12 MiB file system. */
export const FILL_VALUE = Buffer.alloc(2000, 0x61);
/** The most writes {@link fill} makes. */
export const MOST_WRITES = 100_000;
/** What Node prints when an error ends the process (an unhandled rejection, say). */
export const CRASH_BANNER = /^Node\.js v\d+/m;

/**
 * Writes distinct keys, 20 at a time, until a write is refused, the node goes, or
 * {@link MOST_WRITES}; returns the keys acknowledged and the first refusal.
 */
export async function fill(port: number): Promise<{ acknowledged: string[]; refusal?: string }> {
  const acknowledged: string[] = [];
  let refusal: string | undefined;
  await withConnection(
    port,
    async (c) => {
      for (let i = 0; i < MOST_WRITES && refusal === undefined; i += 20) {
        const batch = Array.from({ length: 20 }, (_, j) => `fill:${i + j}`);
        await Promise.all(
          batch.map((key) =>
            c.send(['SET', key, FILL_VALUE]).then(
              () => void acknowledged.push(key),
              (err: unknown) => void (refusal ??= (err as Error).message),
            ),
          ),
        );
      }
    },
    { timeoutMs: 10_000 },
  ).catch((err: unknown) => void (refusal ??= (err as Error).message));
  return { acknowledged, refusal };
}

/** Every key of `keys` read back from the node holds {@link FILL_VALUE}; the ones that do not. */
export async function missing(port: number, keys: readonly string[]): Promise<string[]> {
  return withConnection(
    port,
    async (c) => {
      const lost: string[] = [];
      for (const key of keys) {
        const value = await c.send(['GET', key]);
        if (!Buffer.isBuffer(value) || !value.equals(FILL_VALUE)) lost.push(key);
      }
      return lost;
    },
    { timeoutMs: 10_000 },
  );
}

/** Waits until the node at `port` answers a read. */
export function serving(port: number): Promise<true> {
  return waitFor(
    'the node to serve again',
    async () => ((await send(port, ['GET', 'fill:0']).catch(() => undefined)) ? true : undefined),
    { timeoutMs: 60_000 },
  );
}
