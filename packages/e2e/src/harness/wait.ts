import { setTimeout as sleep } from 'node:timers/promises';

export { sleep };

/** Options of {@link waitFor}. */
export interface WaitOptions {
  /** Give up after this long. */
  timeoutMs: number;
  /** Pause between attempts. @default 50 */
  intervalMs?: number;
}

/**
 * Polls `probe` until it returns something other than `undefined` and returns that.
 * A probe that throws counts as "not yet"; its last error is quoted if time runs out.
 *
 * @param what - what is awaited, for the timeout message ("node 127.0.0.1:4001 in the ring")
 */
export async function waitFor<T>(
  what: string | (() => string),
  probe: () => Promise<T | undefined> | T | undefined,
  { timeoutMs, intervalMs = 50 }: WaitOptions,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const result = await probe();
      if (result !== undefined) return result;
    } catch (err) {
      lastError = err;
    }
    if (performance.now() >= deadline) {
      const why = lastError === undefined ? '' : ` (last attempt: ${describeError(lastError)})`;
      const described = typeof what === 'string' ? what : what();
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${described}${why}`);
    }
    await sleep(intervalMs);
  }
}

/** Runs `action` and returns its result with the milliseconds it took. */
export async function timed<T>(action: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const start = performance.now();
  const result = await action();
  return { result, ms: performance.now() - start };
}

/** Runs `action`, expecting it to reject; returns the error and how long it took. */
export async function timedFailure(
  action: () => Promise<unknown>,
): Promise<{ error: unknown; ms: number }> {
  const start = performance.now();
  try {
    await action();
  } catch (error) {
    return { error, ms: performance.now() - start };
  }
  throw new Error('expected the operation to fail, but it succeeded');
}

export function describeError(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
