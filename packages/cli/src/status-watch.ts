/** Moves the cursor home and clears the screen, as `top` and `watch` redraw. */
export const CLEAR_SCREEN = '\x1b[H\x1b[2J';

/** Options of {@link watchStatus}. */
export interface WatchOptions {
  /** Produces one screen: the lines of the status table (or a JSON document). */
  readonly render: () => Promise<string[]>;
  /** Where screens go. */
  readonly write: (text: string) => void;
  /** Pause between the end of one refresh and the start of the next, in ms. */
  readonly intervalMs: number;
  /**
   * Redraw over the previous screen (a terminal), or append each screen (a pipe, `--json`).
   * @default true
   */
  readonly clear?: boolean;
  /** Stop after this many screens. @default until `signal` aborts */
  readonly iterations?: number;
  /** Aborting stops the watch after the current screen. */
  readonly signal?: AbortSignal;
  /** Waits `ms`, or less if `signal` aborts; tests substitute it. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** The wall clock, for the header; tests substitute it. */
  readonly now?: () => Date;
}

/**
 * Shows the cluster's status again and again, like `top`: a header with the time, then the
 * table, each refresh drawn over the last. A refresh that fails (coordinator unreachable)
 * shows why and the watch goes on, so it recovers by itself when the cluster does.
 */
export async function watchStatus(options: WatchOptions): Promise<void> {
  const { render, write, intervalMs, signal, iterations } = options;
  const clear = options.clear ?? true;
  const now = options.now ?? (() => new Date());
  const sleep = options.sleep ?? abortableSleep;
  for (let screen = 1; iterations === undefined || screen <= iterations; screen++) {
    if (signal?.aborted) return;
    let lines: string[];
    try {
      lines = await render();
    } catch (err) {
      lines = [`cannot refresh: ${err instanceof Error ? err.message : String(err)}; retrying`];
    }
    if (signal?.aborted) return;
    const header = clear
      ? [
          `kv status at ${now().toISOString().slice(11, 19)} UTC, every ${intervalMs / 1000} s; Ctrl-C to stop`,
          '',
        ]
      : [];
    write(`${clear ? CLEAR_SCREEN : ''}${[...header, ...lines].join('\n')}\n`);
    if (screen === iterations) return;
    await sleep(intervalMs, signal);
  }
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
