import {
  ErrorCode,
  ReplyError,
  UnreachableError,
  type CommandArg,
  type ConnectionPool,
  type RespValue,
} from '@kv/protocol';
import type { Ring } from '@kv/ring';
import { retryDelay, sleep } from './backoff';
import { ClusterUnavailableError, NoNodesError, type NodeFailure } from './errors';
import type { FallbackEvent } from './events';
import type { RequestOptions } from './options';
import type { RingSnapshot, RingSource } from './ring-source';

/** A key as requests take it: text (UTF-8) or bytes. */
export type Key = string | Buffer;

/** Nodes past the preference list that may also coordinate a request for the key. */
const EXTRA_CANDIDATES = 2;
const MAX_BACKOFF_MS = 2000;

/** Options of {@link KeyRouter}. */
export interface KeyRouterOptions {
  /** Where requests go. */
  readonly pool: ConnectionPool;
  /** The client's copy of the ring. */
  readonly source: RingSource;
  /** Time to wait for each reply unless a request says otherwise. */
  readonly requestTimeoutMs: number;
  /** Extra rounds after a round in which every node failed. */
  readonly retries: number;
  /** First backoff between rounds. */
  readonly retryBackoffMs: number;
  /** Throws once the client is closed. */
  readonly checkOpen: () => void;
  /** Told when a node failed and the next one is tried. */
  readonly onFallback: (event: FallbackEvent) => void;
}

/** What answered a keyed request. */
export interface Routed {
  readonly reply: RespValue;
  /** The node that answered. */
  readonly node: string;
  /** The key's primary in the ring used. */
  readonly primary: string;
}

/** Errors worth trying another node or round for. */
function isRetryable(err: unknown): boolean {
  return (
    err instanceof UnreachableError ||
    (err instanceof ReplyError &&
      (err.code === ErrorCode.UNAVAILABLE || err.code === ErrorCode.TIMEOUT))
  );
}

/** A key as text, for events and errors. */
export function keyText(key: Key): string {
  return typeof key === 'string' ? key : key.toString('utf8');
}

/**
 * Routes keyed requests: straight to the key's primary, then its replicas in preference
 * order (those backing off after a failure last), then two more members; after a round in
 * which every one failed, backs off, refreshes the ring and tries again.
 */
export class KeyRouter {
  constructor(private readonly options: KeyRouterOptions) {}

  /**
   * The ring to route by, refreshed first when it is empty (nodes may have joined since).
   * @throws {@link NoNodesError} when it is still empty; what the ring source throws
   */
  async ring(): Promise<RingSnapshot> {
    const { source } = this.options;
    let snapshot = await source.load();
    if (snapshot.ring.size === 0) snapshot = await source.refresh();
    if (snapshot.ring.size === 0) throw new NoNodesError(snapshot.from);
    return snapshot;
  }

  /** Asks for a newer ring without waiting; a failure keeps the ring held. */
  refreshInBackground(): void {
    this.options.source.refresh().catch(() => {
      // The ring held stays in use; the next refresh tries again.
    });
  }

  /**
   * Sends a keyed command to the key's nodes until one answers.
   *
   * @throws a non-retryable `ReplyError` at once; the last `UNAVAILABLE`/`TIMEOUT` reply
   *   when that is how the last round ended; else {@link ClusterUnavailableError}
   */
  async execute(
    command: string,
    key: Key,
    args: CommandArg[],
    options: RequestOptions,
  ): Promise<Routed> {
    const { pool, retries, retryBackoffMs, requestTimeoutMs, checkOpen } = this.options;
    const failures: NodeFailure[] = [];
    let lastReply: ReplyError | undefined;
    for (let round = 0; round <= retries; round++) {
      if (round > 0) {
        await sleep(retryDelay(round - 1, retryBackoffMs, MAX_BACKOFF_MS), options.signal);
        checkOpen();
        await this.options.source.refresh().catch(() => undefined);
      }
      const { ring } = await this.ring();
      const primary = ring.primary(key);
      const candidates = this.candidates(ring, key);
      for (let i = 0; i < candidates.length; i++) {
        const node = candidates[i] as string;
        try {
          const reply = await pool.send(node, args, {
            timeoutMs: options.timeoutMs ?? requestTimeoutMs,
            signal: options.signal,
          });
          return { reply, node, primary };
        } catch (err) {
          checkOpen();
          if (!isRetryable(err)) throw err;
          failures.push({ node, error: err as Error });
          this.refreshInBackground();
          if (err instanceof ReplyError) {
            // The node was reached but could not gather enough replicas; another node
            // would consult the same replicas, so only a later round can help.
            lastReply = err;
            break;
          }
          const next = candidates[i + 1];
          if (next !== undefined)
            this.options.onFallback({
              command,
              key: keyText(key),
              from: node,
              to: next,
              error: err as Error,
            });
        }
      }
    }
    // A node's own account ("UNAVAILABLE 1 of 2 replicas acknowledged") says more than a
    // list of failures when that is how the last round ended.
    const last = failures[failures.length - 1];
    if (lastReply && last?.error === lastReply) throw lastReply;
    throw new ClusterUnavailableError(`${command} ${keyText(key)}`, failures);
  }

  private candidates(ring: Ring, key: Key): string[] {
    const { pool } = this.options;
    const list = ring.preferenceList(key, ring.replicationFactor + EXTRA_CANDIDATES);
    const owners = list.slice(0, ring.replicationFactor);
    const available = owners.filter((id) => pool.isAvailable(id));
    const backingOff = owners.filter((id) => !pool.isAvailable(id));
    return [...available, ...list.slice(ring.replicationFactor), ...backingOff];
  }
}
