import { Phase } from '@kv/ring';
import { sleep } from './backoff';
import { ClientClosedError, NotServingError } from './errors';
import type { NodeInfo } from './info';
import type { NodeStatus } from './node-status';

/** Options of `KvClient.waitUntilServing`. */
export interface WaitOptions {
  /**
   * How long to wait in all.
   * @default 30000
   */
  timeoutMs?: number;
  /**
   * Pause between two checks.
   * @default 100
   */
  intervalMs?: number;
  /** Stops waiting: the wait rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** The calls a serving check makes; a `KvClient` has them all. */
export interface ServingSource {
  listNodes(): Promise<NodeStatus[]>;
  refreshRing(): Promise<{ readonly epoch: number }>;
  inspectNode(id: string): Promise<NodeInfo>;
}

/**
 * The nodes of `nodes` that do not serve reads yet: those the coordinator does not list as
 * `up`, or, once all are, those not yet {@link Phase.SERVING} at the coordinator's ring
 * epoch (a node routes with the ring it learnt last, up to a heartbeat behind).
 *
 * @throws what the source throws for the coordinator's calls
 */
export async function notServing(
  source: ServingSource,
  nodes: readonly string[],
): Promise<string[]> {
  const members = await source.listNodes();
  const up = new Set(members.filter((m) => m.state === 'up').map((m) => m.id));
  const absent = nodes.filter((id) => !up.has(id));
  if (absent.length > 0 || nodes.length === 0) return absent;
  const { epoch } = await source.refreshRing();
  const infos = await Promise.all(nodes.map((id) => source.inspectNode(id).catch(() => undefined)));
  return nodes.filter((_, i) => {
    const info = infos[i];
    return info?.rebalance.phase !== Phase.SERVING || (info.ringEpoch ?? -1) < epoch;
  });
}

/**
 * Checks {@link notServing} until it is empty. Failed checks (the coordinator not up yet)
 * count as not serving.
 *
 * @throws {@link NotServingError} after `timeoutMs`; the signal's reason when aborted;
 *   {@link ClientClosedError}
 */
export async function waitUntilServing(
  source: ServingSource,
  nodes: readonly string[],
  options: WaitOptions = {},
): Promise<void> {
  const { timeoutMs = 30_000, intervalMs = 100, signal } = options;
  const deadline = performance.now() + timeoutMs;
  let waiting: readonly string[] = nodes;
  let lastError: unknown;
  for (;;) {
    signal?.throwIfAborted();
    try {
      waiting = await notServing(source, nodes);
      if (waiting.length === 0) return;
      lastError = undefined;
    } catch (err) {
      if (err instanceof ClientClosedError) throw err;
      lastError = err;
    }
    if (performance.now() >= deadline)
      throw new NotServingError(timeoutMs, waiting, lastError ? { cause: lastError } : {});
    await sleep(intervalMs, signal);
  }
}
