/**
 * Delay before retry number `attempt` (0 for the first retry): exponential from `baseMs`,
 * capped at `maxMs`, with "full jitter" (uniform in [delay/2, delay]) so clients that failed
 * together do not retry together.
 */
export function retryDelay(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const delay = Math.min(maxMs, baseMs * 2 ** attempt);
  return Math.round(delay / 2 + (random() * delay) / 2);
}

/** Resolves after `ms`, or rejects at once when `signal` is aborted. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
