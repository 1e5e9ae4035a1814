import { EventEmitter } from 'node:events';
import {
  ConnectionPool,
  connectTls,
  ReplyError,
  handshakeFor,
  UnreachableError,
  type CommandArg,
  type RespValue,
} from '@kv/protocol';
import {
  ClientClosedError,
  CoordinatorUnreachableError,
  InvalidClientOptionError,
  PartialWriteError,
  type KeysFailure,
} from './errors';
import type { ClientEvents } from './events';
import { parseInfo, parseNodeInfo, type NodeInfo } from './info';
import { batchByPrimary } from './key-batches';
import { KeyRouter, keyText, type Key, type Routed } from './key-router';
import { parseNodeList, type NodeStatus } from './node-status';
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
import { isAuthRefusal, RingSource, type RingSnapshot } from './ring-source';
import { SourceRole, type SourceAttempt } from './source-attempt';
import { waitUntilServing, type WaitOptions } from './serving';

type Value = string | Buffer;

function byteLength(data: Value): number {
  return typeof data === 'string' ? Buffer.byteLength(data) : data.length;
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

/** Where a key lives: its preference list in the ring reads are routed by. */
export interface KeyPlacement {
  readonly primary: string;
  /** The other nodes holding copies, in preference order. */
  readonly replicas: string[];
}

/** @deprecated the earlier name of {@link KeyPlacement}. */
export type Placement = KeyPlacement;

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
    await this.write(key, value, options);
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
    return (await this.write(key, value, options, condition === 'absent' ? 'NX' : 'XX')) !== null;
  }

  private async write(
    key: Key,
    value: Value,
    options: PutOptions,
    condition?: 'NX' | 'XX',
  ): Promise<RespValue> {
    checkCount(options.ttlMs, 'ttlMs', 1);
    checkCount(options.writeQuorum, 'writeQuorum', 1);
    if (options.keepTtl && options.ttlMs !== undefined)
      throw new InvalidClientOptionError('keepTtl and ttlMs cannot be given together');
    const args: CommandArg[] = ['PUT', key, value];
    if (options.ttlMs !== undefined) args.push('PX', String(options.ttlMs));
    if (options.keepTtl) args.push('KEEPTTL');
    if (condition) args.push(condition);
    if (options.writeQuorum !== undefined) args.push('W', String(options.writeQuorum));
    return (await this.execute('PUT', key, args, options)).reply;
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
    // MGET takes every argument for a key: another read quorum goes through GET, per key.
    if (options.readQuorum !== undefined)
      return Promise.all(keys.map(async (key) => await this.get(key, options)));
    const values: (Buffer | null)[] = new Array<Buffer | null>(keys.length).fill(null);
    const batches = await this.batches(keys);
    await Promise.all(
      batches.map(async (batch) => {
        const args: CommandArg[] = ['MGET', ...batch.map((i) => keys[i] as Key)];
        const { reply, node } = await this.execute(
          'MGET',
          keys[batch[0] as number] as Key,
          args,
          options,
        );
        if (!Array.isArray(reply) || reply.length !== batch.length)
          throw new ReplyError(`ERR unexpected reply to MGET from ${node}`);
        batch.forEach((position, j) => {
          const value = reply[j];
          values[position] = Buffer.isBuffer(value) ? value : null;
        });
      }),
    );
    return values;
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
    const pairs = [...entries];
    if (pairs.length === 0) return;
    // MSET takes every argument for a key or a value: another write quorum goes through
    // PUT, per key (a trailing `W n` would be a key named W).
    const batches =
      options.writeQuorum === undefined
        ? await this.batches(
            pairs.map(([key]) => key),
            (i) =>
              byteLength((pairs[i] as [Key, Value])[0]) + byteLength((pairs[i] as [Key, Value])[1]),
          )
        : pairs.map((_, i) => [i]);
    const results = await Promise.allSettled(
      batches.map(async (batch) => {
        const first = pairs[batch[0] as number] as [Key, Value];
        if (options.writeQuorum !== undefined) return this.put(first[0], first[1], options);
        const args: CommandArg[] = ['MSET', ...batch.flatMap((i) => pairs[i] as [Key, Value])];
        await this.execute('MSET', first[0], args, options);
      }),
    );
    const failures: KeysFailure[] = [];
    let written = 0;
    results.forEach((result, b) => {
      const batch = batches[b] as number[];
      if (result.status === 'fulfilled') written += batch.length;
      else
        failures.push({
          keys: batch.map((i) => keyText((pairs[i] as [Key, Value])[0])),
          error: result.reason as Error,
        });
    });
    if (failures.length > 0) throw new PartialWriteError('MSET', written, failures);
  }

  /**
   * Milliseconds left before `key` expires: `Infinity` for a key without expiry, null for
   * a missing (or expired) one. Errors as for {@link KvClient.getEntry}.
   */
  async ttl(key: Key, options: GetOptions = {}): Promise<number | null> {
    checkCount(options.readQuorum, 'readQuorum', 1);
    const args: CommandArg[] = ['PTTL', key];
    if (options.readQuorum !== undefined) args.push('R', String(options.readQuorum));
    const { reply } = await this.execute('PTTL', key, args, options);
    if (typeof reply !== 'number') throw new ReplyError('ERR unexpected reply to PTTL');
    if (reply === -2) return null;
    return reply === -1 ? Infinity : reply;
  }

  /**
   * Makes `key` expire `ttlMs` from now; false if it does not exist. The node reads the key
   * and writes its value back with the expiry: a write of the key concurrent with it may be
   * overwritten by that copy. Errors as for {@link KvClient.put}.
   */
  async expire(key: Key, ttlMs: number, options: WriteOptions = {}): Promise<boolean> {
    checkCount(ttlMs, 'ttlMs', 1);
    return this.changeExpiry(key, ['PEXPIRE', key, String(ttlMs)], options);
  }

  /** Removes the expiry of `key`; false if it does not exist or has none. As {@link KvClient.expire}. */
  async persist(key: Key, options: WriteOptions = {}): Promise<boolean> {
    return this.changeExpiry(key, ['PERSIST', key], options);
  }

  private async changeExpiry(
    key: Key,
    args: CommandArg[],
    options: WriteOptions,
  ): Promise<boolean> {
    checkCount(options.writeQuorum, 'writeQuorum', 1);
    if (options.writeQuorum !== undefined) args.push('W', String(options.writeQuorum));
    const { reply } = await this.execute(String(args[0]), key, args, options);
    return reply === 1;
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
    this.checkOpen();
    const args = options.all ? ['LIST_NODES', 'ALL'] : ['LIST_NODES'];
    const attempts: SourceAttempt[] = [];
    const asked: [string, SourceRole][] = [
      ...this.coordinators.map((c): [string, SourceRole] => [c, SourceRole.coordinator]),
      ...this.seeds.map((s): [string, SourceRole] => [s, SourceRole.seed]),
    ];
    for (const [address, role] of asked) {
      try {
        return parseNodeList(await this.pool.send(address, args, options));
      } catch (err) {
        this.checkOpen();
        if (err instanceof UnreachableError) attempts.push({ address, role, reason: err.reason });
        else if (role === SourceRole.seed && err instanceof ReplyError && !isAuthRefusal(err))
          attempts.push({ address, role, reason: notACoordinator(err) });
        else throw err;
      }
    }
    const [first] = attempts as [SourceAttempt];
    throw new CoordinatorUnreachableError(first.address, first.reason, { attempts });
  }

  /**
   * The `INFO` fields of one node (`node_id`, `total_commands_processed`, `ring_epoch`,
   * `db0`, ...), as strings. {@link KvClient.inspectNode} reads the same reply into typed
   * figures.
   *
   * @throws `UnreachableError` (from @kv/protocol) when the node cannot be reached
   */
  async nodeInfo(node: string, options: RequestOptions = {}): Promise<Record<string, string>> {
    return parseInfo(await this.infoText(node, options));
  }

  /**
   * One node's `INFO`, parsed: by section, and as figures (keys, commands processed, ring
   * epoch, its phase and pending data movement).
   *
   * @throws `UnreachableError` (from @kv/protocol) when the node cannot be reached
   */
  async inspectNode(node: string, options: RequestOptions = {}): Promise<NodeInfo> {
    return parseNodeInfo(await this.infoText(node, options));
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
    return this.adminCommand(node, ['DECOMMISSION'], options);
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
    return this.adminCommand(node, ['BACKUP', dir], options);
  }

  private async adminCommand(
    node: string,
    args: string[],
    options: RequestOptions,
  ): Promise<string> {
    this.checkOpen();
    const reply = await this.pool.send(node, args, options);
    return Buffer.isBuffer(reply) ? reply.toString('utf8') : String(reply);
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

  private async infoText(node: string, options: RequestOptions): Promise<string> {
    this.checkOpen();
    const reply = await this.pool.send(node, ['INFO'], options);
    return Buffer.isBuffer(reply) ? reply.toString('utf8') : String(reply);
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

/** Why a seed that refused `LIST_NODES` was passed over: a node does not know the command. */
function notACoordinator(err: ReplyError): string {
  return /^unknown command/.test(err.message.replace(/^ERR /, ''))
    ? 'not a coordinator'
    : `not a coordinator (${err.message})`;
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
