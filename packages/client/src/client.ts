import { EventEmitter } from 'node:events';
import { ConnectionPool, connectTls, handshakeFor, type CommandArg } from '@kv/protocol';
import { ClientClosedError, InvalidClientOptionError } from './errors';
import type { ClientEvents } from './events';
import { parseInfo, parseNodeInfo, type NodeInfo } from './info';
import { batchByPrimary } from './key-batches';
import { KeyRouter, type Key, type Routed } from './key-router';
import {
  changeExpiry,
  del,
  exists,
  getEntry,
  mget,
  mset,
  ttl,
  write,
  type KeyCommandClient,
  type Value,
} from './key-commands';
import { adminCommand, listNodes, type AdminClient } from './node-admin';
import type { Entry, KeyPlacement } from './key-results';
import type { NodeStatus } from './node-status';
import {
  checkCount,
  resolveClientOptions,
  type ClientOptions,
  type DeleteOptions,
  type GetOptions,
  type PutOptions,
  type RequestOptions,
  type WriteOptions,
} from './options';
import { RingSource, type RingSnapshot } from './ring-source';
import { waitUntilServing, type WaitOptions } from './serving';

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
export class KvClient extends EventEmitter<ClientEvents> {
  /**
   * `host:port` of the first coordinator, or of the first seed when only seeds were
   * given: the first address asked for the ring.
   */
  readonly coordinator: string;
  /** `host:port` of every coordinator, in the order they are asked (empty with seeds only). */
  readonly coordinators: readonly string[];
  /** `host:port` of the seeds, asked for the ring when no coordinator answers. */
  readonly seeds: readonly string[];
  private readonly pool: ConnectionPool;
  private readonly source: RingSource;
  private readonly router: KeyRouter;
  private readonly timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(options: ClientOptions = {}) {
    super();
    const resolved = resolveClientOptions(options);
    this.coordinators = resolved.coordinators;
    this.seeds = resolved.seeds;
    this.coordinator = resolved.coordinators[0] ?? (resolved.seeds[0] as string);
    this.pool = new ConnectionPool({
      connectTimeoutMs: resolved.connectTimeoutMs,
      requestTimeoutMs: resolved.requestTimeoutMs,
      minBackoffMs: 100,
      maxBackoffMs: 1000,
      maxPending: resolved.maxPending,
      handshake: handshakeFor(resolved),
      ...(resolved.tls && { connect: connectTls(resolved.tls) }),
    });
    this.source = new RingSource({
      coordinators: this.coordinators,
      seeds: this.seeds,
      pool: this.pool,
      timeoutMs: resolved.connectTimeoutMs,
      onChange: (next, previous) =>
        this.emit('ring', {
          epoch: next.epoch,
          previousEpoch: previous?.epoch,
          members: next.ring.size,
        }),
    });
    this.router = new KeyRouter({
      pool: this.pool,
      source: this.source,
      requestTimeoutMs: resolved.requestTimeoutMs,
      retries: resolved.retries,
      retryBackoffMs: resolved.retryBackoffMs,
      checkOpen: () => this.checkOpen(),
      onFallback: (event) => this.emit('fallback', event),
    });
    if (resolved.refreshIntervalMs > 0) {
      this.timer = setInterval(() => {
        if (!this.closed) this.router.refreshInBackground();
      }, resolved.refreshIntervalMs);
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
    await write(this.keyCommands(), key, value, options);
  }

  /**
   * Stores `value` under `key` only if the key holds no value (`'absent'`, Redis's
   * `SET NX`) or only if it holds one (`'exists'`, `SET XX`). The node reads the key first
   * (with a quorum that sees every write acknowledged with the node's write quorum), then
   * writes: two steps, not one
   * atomic step across replicas, so two clients writing `'absent'` at the same moment can
   * both get true (the later write wins). A write retried after `UNAVAILABLE` may find its
   * own first attempt and resolve false.
   *
   * @returns true if written, false when the condition did not hold (nothing written)
   * @throws as {@link KvClient.put}
   */
  async putIf(
    key: Key,
    value: Value,
    condition: 'absent' | 'exists',
    options: PutOptions = {},
  ): Promise<boolean> {
    if (condition !== 'absent' && condition !== 'exists')
      throw new InvalidClientOptionError(
        `condition must be 'absent' or 'exists', got ${String(condition)}`,
      );
    const nxOrXx = condition === 'absent' ? 'NX' : 'XX';
    return (await write(this.keyCommands(), key, value, options, nxOrXx)) !== null;
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
    return getEntry(this.keyCommands(), key, options);
  }

  /** Deletes `key`; true if it existed. Errors as for {@link KvClient.put}. */
  async delete(key: Key, options: DeleteOptions = {}): Promise<boolean> {
    return del(this.keyCommands(), key, options);
  }

  /** True if `key` exists. Errors as for {@link KvClient.getEntry}. */
  async exists(key: Key, options: GetOptions = {}): Promise<boolean> {
    return exists(this.keyCommands(), key, options);
  }

  /**
   * The values of `keys`, in the order given (null for a missing key). Keys are sent in
   * one request per primary node (at most 1,024 keys each), all at once; each key is a
   * quorum read of its own. With `readQuorum`, each key is a `GET` of its own (`MGET` takes
   * no quorum option: every argument is a key).
   *
   * @throws as {@link KvClient.getEntry}; a node answers an error, not a partial reply,
   *   when any key of its request could not be read
   */
  async mget(keys: readonly Key[], options: GetOptions = {}): Promise<(Buffer | null)[]> {
    checkCount(options.readQuorum, 'readQuorum', 1);
    return mget(this.keyCommands(), keys, options);
  }

  /**
   * Stores every `[key, value]` pair, one request per primary node (at most 1,024 keys and
   * 8 MiB each), all at once; each key is a quorum write of its own. Not atomic. With
   * `writeQuorum`, each key is a `PUT` of its own (`MSET` takes no quorum option: a last
   * pair `W n` is a key and its value).
   *
   * @throws {@link PartialWriteError} once every request is over, when any failed: it
   *   counts the keys confirmed written (they stay written) and lists each failed request
   *   with its error
   */
  async mset(entries: Iterable<readonly [Key, Value]>, options: WriteOptions = {}): Promise<void> {
    checkCount(options.writeQuorum, 'writeQuorum', 1);
    return mset(this.keyCommands(), entries, options);
  }

  /**
   * Milliseconds left before `key` expires: `Infinity` for a key without expiry, null for
   * a missing (or expired) one. Errors as for {@link KvClient.getEntry}.
   */
  async ttl(key: Key, options: GetOptions = {}): Promise<number | null> {
    return ttl(this.keyCommands(), key, options);
  }

  /**
   * Makes `key` expire `ttlMs` from now; false if it does not exist. The node reads the key
   * and writes its value back with the expiry: a write of the key concurrent with it may be
   * overwritten by that copy. Errors as for {@link KvClient.put}.
   */
  async expire(key: Key, ttlMs: number, options: WriteOptions = {}): Promise<boolean> {
    checkCount(ttlMs, 'ttlMs', 1);
    return changeExpiry(this.keyCommands(), key, ['PEXPIRE', key, String(ttlMs)], options);
  }

  /** Removes the expiry of `key`; false if it does not exist or has none. As {@link KvClient.expire}. */
  async persist(key: Key, options: WriteOptions = {}): Promise<boolean> {
    return changeExpiry(this.keyCommands(), key, ['PERSIST', key], options);
  }

  /** Where `key` lives, computed from the ring the client holds. */
  async nodesForKey(key: Key): Promise<KeyPlacement> {
    this.checkOpen();
    const { ring } = await this.router.ring();
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
   * recently dead. The coordinators are asked in order, then the seeds (a seed that is a
   * coordinator answers; a node refuses the command and the next is asked).
   *
   * @throws {@link CoordinatorUnreachableError} listing every address tried when none
   *   answered; a `ReplyError` a coordinator answered with
   */
  async listNodes(options: { all?: boolean } & RequestOptions = {}): Promise<NodeStatus[]> {
    return listNodes(this.admin(), options);
  }

  /**
   * The `INFO` fields of one node (`node_id`, `total_commands_processed`, `ring_epoch`,
   * `db0`, ...), as strings. {@link KvClient.inspectNode} reads the same reply into typed
   * figures.
   *
   * @throws `UnreachableError` (from @kv/protocol) when the node cannot be reached
   */
  async nodeInfo(node: string, options: RequestOptions = {}): Promise<Record<string, string>> {
    return parseInfo(await adminCommand(this.admin(), node, ['INFO'], options));
  }

  /**
   * One node's `INFO`, parsed: by section, and as figures (keys, commands processed, ring
   * epoch, its phase and pending data movement).
   *
   * @throws `UnreachableError` (from @kv/protocol) when the node cannot be reached
   */
  async inspectNode(node: string, options: RequestOptions = {}): Promise<NodeInfo> {
    return parseNodeInfo(await adminCommand(this.admin(), node, ['INFO'], options));
  }

  /**
   * Tells node `node` to leave the cluster for good: it leaves the target ring, hands its
   * ranges to their next owners, leaves the ring and stops. Resolves with the node's
   * answer once it has started; it stops on its own later.
   *
   * @throws `ReplyError` when the node refuses (it is already stopping);
   *   `UnreachableError` (from @kv/protocol) when it cannot be reached
   */
  async decommission(node: string, options: RequestOptions = {}): Promise<string> {
    return adminCommand(this.admin(), node, ['DECOMMISSION'], options);
  }

  /**
   * Tells node `node` to write a consistent snapshot of its records into `dir` (absolute, on
   * the node's machine) while it serves; `dir` is then a data directory a node can start on.
   * Resolves with the node's answer once the copy is complete.
   *
   * @throws `ReplyError` when the node refuses (no `--data-dir`, `dir` not empty, relative
   *   path); `UnreachableError` (from @kv/protocol) when it cannot be reached
   */
  async backup(node: string, dir: string, options: RequestOptions = {}): Promise<string> {
    return adminCommand(this.admin(), node, ['BACKUP', dir], options);
  }

  /**
   * Resolves once every node of `nodes` serves reads: the coordinator lists it `up` and the
   * node itself is `serving` at the coordinator's ring epoch, so the next request is
   * placed alike by the client and every node. With no nodes, resolves once the
   * coordinator answers. Checks until `timeoutMs`, treating failed checks as not ready.
   *
   * @throws {@link NotServingError} naming the nodes still not serving after `timeoutMs`;
   *   the signal's reason when aborted
   */
  async waitUntilServing(nodes: readonly string[], options: WaitOptions = {}): Promise<void> {
    this.checkOpen();
    await waitUntilServing(this, nodes, options);
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

  /** The client as the operator commands see it (see ./node-admin). */
  private admin(): AdminClient {
    return {
      pool: this.pool,
      coordinators: this.coordinators,
      seeds: this.seeds,
      checkOpen: () => this.checkOpen(),
    };
  }

  /** The client as the key commands see it (see ./key-commands). */
  private keyCommands(): KeyCommandClient {
    return {
      batches: (keys, bytesOf) => this.batches(keys, bytesOf),
      execute: (command, key, args, options) => this.execute(command, key, args, options),
      get: (key, options) => this.get(key, options),
      put: (key, value, options) => this.put(key, value, options),
    };
  }

  /** `keys` in batches for one node each (see {@link batchByPrimary}). */
  private async batches(
    keys: readonly Key[],
    bytesOf?: (position: number) => number,
  ): Promise<number[][]> {
    this.checkOpen();
    return batchByPrimary((await this.router.ring()).ring, keys, bytesOf);
  }

  private execute(
    command: string,
    key: Key,
    args: CommandArg[],
    options: RequestOptions,
  ): Promise<Routed> {
    this.checkOpen();
    return this.router.execute(command, key, args, options);
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
