import { EventEmitter } from 'node:events';
import {
  ConnectionPool,
  ErrorCode,
  ReplyError,
  UnreachableError,
  parseAddress,
  type CommandArg,
  type RespValue,
} from '@kv/protocol';
import type { Ring } from '@kv/ring';
import { retryDelay, sleep } from './backoff';
import {
  ClientClosedError,
  ClusterUnavailableError,
  CoordinatorUnreachableError,
  InvalidClientOptionError,
  NoNodesError,
  type NodeFailure,
} from './errors';
import { parseInfo } from './info';
import { RingSource, type RingSnapshot } from './ring-source';

/** Options of {@link createClient}. */
export interface ClientOptions {
  /**
   * The coordinator, `host:port`. Asked for the ring once, then only to learn of changes.
   * @default '127.0.0.1:5000'
   */
  coordinator?: string;
  /**
   * Time to wait for a connection to a node or the coordinator.
   * @default 1000
   */
  connectTimeoutMs?: number;
  /**
   * Time to wait for each reply. A node coordinating a write waits up to its replica
   * timeout (1 s by default) for replicas, so this should be longer than that.
   * @default 5000
   */
  requestTimeoutMs?: number;
  /**
   * Extra rounds over a key's nodes after every one of them failed, each after a backoff
   * and a ring refresh.
   * @default 2
   */
  retries?: number;
  /**
   * First backoff before a retry round; doubles each round, up to 2 s, with jitter.
   * @default 100
   */
  retryBackoffMs?: number;
  /**
   * How often to ask the coordinator whether the ring changed; 0 turns periodic refresh
   * off (the ring is still refreshed when a node is unreachable or unavailable).
   * @default 5000
   */
  refreshIntervalMs?: number;
  /**
   * Most requests waiting on one node connection.
   * @default 10000
   */
  maxPending?: number;
}

/** Per-request options. */
export interface RequestOptions {
  /** Overrides `requestTimeoutMs` for this request (each node tried gets this long). */
  timeoutMs?: number;
  /** Abandons the request when aborted. */
  signal?: AbortSignal;
}

/** Options of {@link KvClient.put}. */
export interface PutOptions extends RequestOptions {
  /** Expire the value after this many milliseconds. */
  ttlMs?: number;
  /** Acknowledgements to wait for (1..replication factor); the node's default when unset. */
  writeQuorum?: number;
}

/** Options of {@link KvClient.delete}. */
export interface DeleteOptions extends RequestOptions {
  /** Acknowledgements to wait for (1..replication factor). */
  writeQuorum?: number;
}

/** Options of {@link KvClient.get} and {@link KvClient.exists}. */
export interface GetOptions extends RequestOptions {
  /** Replicas to read (1..replication factor); the newest copy wins and stale ones are repaired. */
  readQuorum?: number;
}

/** A value and where it came from. */
export interface Entry {
  /** The value, or null when the key does not exist. */
  readonly value: Buffer | null;
  /** The node (`host:port`) that answered. */
  readonly node: string;
  /** The key's primary node. */
  readonly primary: string;
  /** True when a node other than the primary answered (the primary failed). */
  readonly fromReplica: boolean;
}

/** Where a key lives. */
export interface Placement {
  readonly primary: string;
  /** The other nodes holding copies, in preference order. */
  readonly replicas: string[];
}

/** A member as the coordinator lists it. */
export interface NodeStatus {
  /** `host:port`. */
  readonly id: string;
  /** `up`, `probation` (not heard from since a coordinator restart) or `dead`. */
  readonly state: string;
  readonly zone: string;
  readonly weight: number;
  /** Milliseconds since its last heartbeat. */
  readonly lastHeartbeatMs: number;
}

/** Emitted when a node failed and the request moves on to the next one. */
export interface FallbackEvent {
  readonly command: string;
  readonly key: string;
  /** The node that failed. */
  readonly from: string;
  /** The node tried next. */
  readonly to: string;
  readonly error: Error;
}

/** Emitted when the client adopts a different ring. */
export interface RingChangeEvent {
  readonly epoch: number;
  readonly previousEpoch: number | undefined;
  readonly members: number;
}

type Key = string | Buffer;
type Value = string | Buffer;

/** Nodes past the preference list that may also coordinate a request for the key. */
const EXTRA_CANDIDATES = 2;
const MAX_BACKOFF_MS = 2000;

function checkAddress(address: string): void {
  if (!parseAddress(address))
    throw new InvalidClientOptionError(`coordinator must be host:port, got '${address}'`);
}

function checkCount(value: number | undefined, name: string, min: number): void {
  if (value !== undefined && (!Number.isInteger(value) || value < min))
    throw new InvalidClientOptionError(`${name} must be an integer ≥ ${min}, got ${value}`);
}

/** Errors worth trying another node or round for. */
function isRetryable(err: unknown): boolean {
  return (
    err instanceof UnreachableError ||
    (err instanceof ReplyError &&
      (err.code === ErrorCode.UNAVAILABLE || err.code === ErrorCode.TIMEOUT))
  );
}

function keyText(key: Key): string {
  return typeof key === 'string' ? key : key.toString('utf8');
}

/**
 * A ring-aware kv client. It fetches the ring once and sends each request straight to the
 * key's primary node over one pooled, pipelined connection per node. When the primary is
 * unreachable the request goes to the key's replicas in preference order (any node can
 * coordinate a request), the ring is refreshed, and after a full failed round the client
 * backs off and retries up to `retries` times. With the coordinator down it keeps working
 * with the ring it has, learning of changes from the nodes.
 *
 * Keys and values are strings (UTF-8) or Buffers; values come back as Buffers (use
 * {@link KvClient.getString} for text).
 */
export class KvClient extends EventEmitter<{
  fallback: [FallbackEvent];
  ring: [RingChangeEvent];
}> {
  /** `host:port` of the coordinator. */
  readonly coordinator: string;
  private readonly pool: ConnectionPool;
  private readonly source: RingSource;
  private readonly requestTimeoutMs: number;
  private readonly retries: number;
  private readonly retryBackoffMs: number;
  private readonly timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(options: ClientOptions = {}) {
    super();
    this.coordinator = options.coordinator ?? '127.0.0.1:5000';
    checkAddress(this.coordinator);
    checkCount(options.connectTimeoutMs, 'connectTimeoutMs', 1);
    checkCount(options.requestTimeoutMs, 'requestTimeoutMs', 1);
    checkCount(options.retries, 'retries', 0);
    checkCount(options.retryBackoffMs, 'retryBackoffMs', 0);
    checkCount(options.refreshIntervalMs, 'refreshIntervalMs', 0);
    checkCount(options.maxPending, 'maxPending', 1);
    this.requestTimeoutMs = options.requestTimeoutMs ?? 5000;
    this.retries = options.retries ?? 2;
    this.retryBackoffMs = options.retryBackoffMs ?? 100;
    this.pool = new ConnectionPool({
      connectTimeoutMs: options.connectTimeoutMs ?? 1000,
      requestTimeoutMs: this.requestTimeoutMs,
      minBackoffMs: 100,
      maxBackoffMs: 1000,
      maxPending: options.maxPending,
    });
    this.source = new RingSource({
      coordinator: this.coordinator,
      pool: this.pool,
      timeoutMs: options.connectTimeoutMs ?? 1000,
      onChange: (next, previous) =>
        this.emit('ring', {
          epoch: next.epoch,
          previousEpoch: previous?.epoch,
          members: next.ring.size,
        }),
    });
    const interval = options.refreshIntervalMs ?? 5000;
    if (interval > 0) {
      this.timer = setInterval(() => this.refreshInBackground(), interval);
      this.timer.unref();
    }
  }

  /**
   * Fetches the ring if the client has none yet. Requests do this themselves; call it to
   * find out early whether the cluster can be reached.
   *
   * @throws {@link CoordinatorUnreachableError}
   */
  async connect(): Promise<void> {
    this.checkOpen();
    await this.source.load();
  }

  /**
   * Stores `value` under `key` once the write quorum of replicas acknowledged it.
   *
   * @throws `ReplyError` with code `UNAVAILABLE` when too few replicas acknowledged (the
   *   message says how many; the write may stand on those that did), `TOOLARGE` or
   *   `WRONGARGS` for a key, value or option the node refuses;
   *   {@link ClusterUnavailableError} when no node could be reached
   */
  async put(key: Key, value: Value, options: PutOptions = {}): Promise<void> {
    checkCount(options.ttlMs, 'ttlMs', 1);
    checkCount(options.writeQuorum, 'writeQuorum', 1);
    const args: CommandArg[] = ['PUT', key, value];
    if (options.ttlMs !== undefined) args.push('PX', String(options.ttlMs));
    if (options.writeQuorum !== undefined) args.push('W', String(options.writeQuorum));
    await this.execute('PUT', key, args, options);
  }

  /** The value of `key`, or null. See {@link KvClient.getEntry} for errors. */
  async get(key: Key, options: GetOptions = {}): Promise<Buffer | null> {
    return (await this.getEntry(key, options)).value;
  }

  /** The value of `key` decoded as UTF-8, or null. */
  async getString(key: Key, options: GetOptions = {}): Promise<string | null> {
    return (await this.getEntry(key, options)).value?.toString('utf8') ?? null;
  }

  /**
   * The value of `key` with the node that served it.
   *
   * @throws {@link ClusterUnavailableError} when no node could be reached; `ReplyError`
   *   `UNAVAILABLE` when fewer than the read quorum of replicas answered
   */
  async getEntry(key: Key, options: GetOptions = {}): Promise<Entry> {
    checkCount(options.readQuorum, 'readQuorum', 1);
    const args: CommandArg[] = ['GET', key];
    if (options.readQuorum !== undefined) args.push('R', String(options.readQuorum));
    const { reply, node, primary } = await this.execute('GET', key, args, options);
    if (reply !== null && !Buffer.isBuffer(reply))
      throw new ReplyError(`ERR unexpected reply to GET from ${node}`);
    return { value: reply, node, primary, fromReplica: node !== primary };
  }

  /** Deletes `key`; true if it existed. Errors as for {@link KvClient.put}. */
  async delete(key: Key, options: DeleteOptions = {}): Promise<boolean> {
    checkCount(options.writeQuorum, 'writeQuorum', 1);
    const args: CommandArg[] = ['DELETE', key];
    if (options.writeQuorum !== undefined) args.push('W', String(options.writeQuorum));
    const { reply } = await this.execute('DELETE', key, args, options);
    return typeof reply === 'number' && reply > 0;
  }

  /** True if `key` exists. Errors as for {@link KvClient.getEntry}. */
  async exists(key: Key, options: GetOptions = {}): Promise<boolean> {
    checkCount(options.readQuorum, 'readQuorum', 1);
    const args: CommandArg[] = ['EXISTS', key];
    if (options.readQuorum !== undefined) args.push('R', String(options.readQuorum));
    const { reply } = await this.execute('EXISTS', key, args, options);
    return typeof reply === 'number' && reply > 0;
  }

  /** Where `key` lives, computed from the ring the client holds. */
  async nodesForKey(key: Key): Promise<Placement> {
    const { ring } = await this.loadRing();
    const [primary, ...replicas] = ring.preferenceList(key);
    return { primary: primary as string, replicas };
  }

  /** The ring the client routes with and its epoch (fetched if the client has none). */
  async ring(): Promise<RingSnapshot> {
    this.checkOpen();
    return this.source.load();
  }

  /** Asks for a newer ring now; resolves with the ring held afterwards. */
  async refreshRing(): Promise<RingSnapshot> {
    this.checkOpen();
    return this.source.refresh();
  }

  /**
   * The members as the coordinator lists them (`LIST_NODES`); with `all`, also the
   * recently dead.
   *
   * @throws {@link CoordinatorUnreachableError}
   */
  async listNodes(options: { all?: boolean } & RequestOptions = {}): Promise<NodeStatus[]> {
    this.checkOpen();
    let reply: RespValue;
    try {
      reply = await this.pool.send(
        this.coordinator,
        options.all ? ['LIST_NODES', 'ALL'] : ['LIST_NODES'],
        options,
      );
    } catch (err) {
      if (err instanceof UnreachableError)
        throw new CoordinatorUnreachableError(this.coordinator, err.reason, { cause: err });
      throw err;
    }
    if (!Array.isArray(reply)) throw new ReplyError('ERR unexpected reply to LIST_NODES');
    return reply.map((row) => {
      const [id, state, zone, weight, age] = Array.isArray(row) ? row : [];
      return {
        id: String(id),
        state: String(state),
        zone: String(zone),
        weight: Number(String(weight)),
        lastHeartbeatMs: Number(age),
      };
    });
  }

  /**
   * The `INFO` fields of one node (`node_id`, `total_commands_processed`, `ring_epoch`,
   * `db0`, ...), as strings.
   *
   * @throws `UnreachableError` (from @kv/protocol) when the node cannot be reached
   */
  async nodeInfo(node: string, options: RequestOptions = {}): Promise<Record<string, string>> {
    this.checkOpen();
    const reply = await this.pool.send(node, ['INFO'], options);
    return parseInfo(Buffer.isBuffer(reply) ? reply.toString('utf8') : String(reply));
  }

  /** Closes every connection; requests in flight and later ones fail with {@link ClientClosedError}. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.pool.close();
    // Let the destroyed sockets' close events run before the caller moves on.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  private checkOpen(): void {
    if (this.closed) throw new ClientClosedError();
  }

  private async loadRing(): Promise<RingSnapshot> {
    this.checkOpen();
    let snapshot = await this.source.load();
    // An empty ring may just be old news: nodes may have joined since.
    if (snapshot.ring.size === 0) snapshot = await this.source.refresh();
    if (snapshot.ring.size === 0) throw new NoNodesError(this.coordinator);
    return snapshot;
  }

  /**
   * Sends a keyed command to the key's nodes in preference order (those not backing off
   * after a failure first), then to two more members; after a round in which every one
   * failed, backs off, refreshes the ring and tries again, up to `retries` times.
   */
  private async execute(
    command: string,
    key: Key,
    args: CommandArg[],
    options: RequestOptions,
  ): Promise<{ reply: RespValue; node: string; primary: string }> {
    const failures: NodeFailure[] = [];
    let lastReply: ReplyError | undefined;
    for (let round = 0; round <= this.retries; round++) {
      if (round > 0) {
        await sleep(retryDelay(round - 1, this.retryBackoffMs, MAX_BACKOFF_MS), options.signal);
        this.checkOpen();
        await this.source.refresh().catch(() => undefined);
      }
      const { ring } = await this.loadRing();
      const primary = ring.primary(key);
      const candidates = this.candidates(ring, key);
      for (let i = 0; i < candidates.length; i++) {
        const node = candidates[i] as string;
        try {
          const reply = await this.pool.send(node, args, {
            timeoutMs: options.timeoutMs ?? this.requestTimeoutMs,
            signal: options.signal,
          });
          return { reply, node, primary };
        } catch (err) {
          this.checkOpen();
          if (!isRetryable(err)) throw err;
          failures.push({ node, error: err as Error });
          if (err instanceof ReplyError) {
            // The node was reached but could not gather enough replicas; another node
            // would consult the same replicas, so only a later round can help.
            lastReply = err;
            this.refreshInBackground();
            break;
          }
          this.refreshInBackground();
          const next = candidates[i + 1];
          if (next !== undefined)
            this.emit('fallback', {
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
    const list = ring.preferenceList(key, ring.replicationFactor + EXTRA_CANDIDATES);
    const owners = list.slice(0, ring.replicationFactor);
    const available = owners.filter((id) => this.pool.isAvailable(id));
    const backingOff = owners.filter((id) => !this.pool.isAvailable(id));
    return [...available, ...list.slice(ring.replicationFactor), ...backingOff];
  }

  private refreshInBackground(): void {
    if (this.closed) return;
    this.source.refresh().catch(() => {
      // The ring held stays in use; the next refresh tries again.
    });
  }
}

/**
 * Creates a client. Nothing is sent until the first request (or {@link KvClient.connect}).
 *
 * @example
 * ```ts
 * const client = createClient({ coordinator: '127.0.0.1:5000' });
 * await client.put('user:1', 'Alice');
 * console.log(await client.getString('user:1')); // Alice
 * await client.close();
 * ```
 * @throws {@link InvalidClientOptionError} for an invalid option
 */
export function createClient(options: ClientOptions = {}): KvClient {
  return new KvClient(options);
}
