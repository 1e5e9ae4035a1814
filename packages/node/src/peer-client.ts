import { ConnectionPool, ReplyError, type ConnectFactory, type Handshake } from '@kv/protocol';
import { Digest, encodeBuckets } from './digest';
import type { NodeMetrics } from './metrics';
import { NODE_DEFAULTS } from './node-options';
import { ReplicaBatcher, settleAll, type Waiting } from './replica-batcher';
import type { StoredRecord } from './record';
import {
  FETCH_ALONE,
  NodeCommand,
  decodeAloneAnswer,
  decodeApplyResult,
  decodeBatchReply,
  type AloneAnswer,
  decodeRecord,
  replicateArgs,
  replicateBatchArgs,
  type ApplyResult,
} from './replication';
import {
  SyncCommand,
  decodeKeyVersions,
  decodeRecords,
  decodeVersions,
  type KeyVersion,
  type RecordVersionOf,
} from './sync-protocol';

/** A SYNC_KEYS answer: entries of the buckets asked, and the first bucket left out (-1: none). */
export interface KeyVersionPage {
  readonly next: number;
  readonly entries: KeyVersion[];
}

/**
 * The connections a node's sync traffic travels on: its own, so a bulk reply never delays a
 * replica's acknowledgement. Replies can be large: a request may take the sync timeout.
 */
export function syncConnections(
  connectTimeoutMs: number,
  handshake: Handshake | undefined,
  connect: ConnectFactory,
): ConnectionPool {
  return new ConnectionPool({
    requestTimeoutMs: NODE_DEFAULTS.syncTimeoutMs,
    connectTimeoutMs,
    handshake,
    connect,
  });
}

/** A peer's answer to a command it does not know: a node of an older version. */
const UNKNOWN_COMMAND = 'ERR unknown command';

/**
 * The node-to-node commands as typed calls over a connection pool: each request is
 * encoded and its reply decoded here, and only here. A malformed reply rejects with a
 * `ReplyError`; an unreachable peer rejects with the pool's error.
 *
 * Records replicated to one peer during one event-loop turn leave together, in one
 * `REPLICATE_BATCH` (a record alone goes as `REPLICATE`); each call still settles with its
 * own record's answer, or with the error that failed the whole batch. Requests to a peer
 * leave in the order they were made: any other request sends the records queued for that
 * peer first, so a read issued after a write reaches the replica after it.
 *
 * A record sent with {@link replicate} (a quorum write, a hint delivered, a read repair or a
 * hand-off) that fails without an answer from the peer (busy: too many requests already
 * wait on its connection; or unreachable: it cannot be dialled, is backed off, or its
 * connection broke) is a version the peer should hold and lacks (a quorum write's becomes a
 * hint), so the peer is told with `REPLICA_MISSED` ahead of the next request to it. Without
 * the notice a peer that was busy, or that merely closed the connection itself, would go on
 * answering R=1 reads alone without that write.
 */
export class PeerClient {
  private readonly batcher = new ReplicaBatcher((peer, batch) => this.sendBatch(peer, batch));
  /** Peers owed a `REPLICA_MISSED`. */
  private readonly missed = new Set<string>();

  /**
   * @param metrics - where the round trips of REPLICATE and FETCH, and the batches sent,
   *   are recorded
   */
  constructor(
    private readonly pool: ConnectionPool,
    private readonly metrics?: NodeMetrics,
  ) {}

  /** False while the pool knows `peer` to be unreachable. */
  isAvailable(peer: string): boolean {
    return this.pool.isAvailable(peer);
  }

  /**
   * Closes the connection to `peer`, failing the requests waiting on it (see
   * ConnectionPool.reset); the next request dials anew.
   */
  reset(peer: string): void {
    this.pool.reset(peer);
  }

  /**
   * `REPLICATE`: merges `record` on `peer`; what the peer holds afterwards. Sent at the end
   * of the turn, with the other records for `peer` (see {@link PeerClient}).
   */
  replicate(peer: string, key: Buffer, record: StoredRecord): Promise<ApplyResult> {
    return this.batcher.add(peer, key, record);
  }

  private sendBatch(peer: string, batch: Waiting[]): void {
    const counters = this.metrics?.counters;
    counters?.replicaRecordsSent.inc(batch.length);
    if (batch.length === 1) {
      const { key, record, resolve, reject } = batch[0] as Waiting;
      this.timed(peer, replicateArgs(key, record))
        .then(decodeApplyResult)
        .then(resolve, (err: Error) => {
          this.noteMissed(peer, err);
          reject(err);
        });
      return;
    }
    counters?.replicaBatchesSent.inc();
    this.timed(peer, replicateBatchArgs(batch), batch.length)
      .then((reply) => decodeBatchReply(reply, batch.length))
      .then(
        (answers) => settleAll(batch, answers),
        (err: Error) => {
          // A node of an older version knows only REPLICATE: each record goes on its own.
          if (err instanceof ReplyError && err.message.startsWith(UNKNOWN_COMMAND)) {
            for (const waiting of batch) this.sendBatch(peer, [waiting]);
            return;
          }
          this.noteMissed(peer, err);
          for (const waiting of batch) waiting.reject(err);
        },
      );
  }

  /** `FETCH`: the record `peer` holds for `key`, tombstones included. */
  async fetch(peer: string, key: Buffer): Promise<StoredRecord | undefined> {
    return decodeRecord(await this.timed(peer, [NodeCommand.fetch, key]));
  }

  /** `FETCH key ALONE`: the record, and whether `peer` may answer an R=1 read alone. */
  async fetchAlone(peer: string, key: Buffer, epoch?: number): Promise<AloneAnswer> {
    const args = [NodeCommand.fetch, key, FETCH_ALONE, ...(epoch === undefined ? [] : [epoch])];
    return decodeAloneAnswer(await this.timed(peer, args));
  }

  /**
   * A request on the replica path, its round trip recorded whatever its outcome, once per
   * record it carries.
   */
  private async timed(
    peer: string,
    args: Parameters<ConnectionPool['send']>[1],
    records = 1,
  ): ReturnType<ConnectionPool['send']> {
    const startedAt = performance.now();
    try {
      return await this.send(peer, args);
    } finally {
      this.metrics?.replicaLatency.observe((performance.now() - startedAt) / 1000, records);
    }
  }

  /**
   * Sends a request to `peer` after the records queued for it, and after the notice of
   * writes it missed, if it is owed one (see {@link PeerClient}).
   */
  private send(
    peer: string,
    args: Parameters<ConnectionPool['send']>[1],
  ): ReturnType<ConnectionPool['send']> {
    this.batcher.flushPeer(peer);
    if (this.missed.delete(peer))
      // Owed again if it could not be sent (a peer that answered, even with an error, heard it).
      this.pool.send(peer, [NodeCommand.replicaMissed]).catch((err: unknown) => {
        if (!(err instanceof ReplyError)) this.missed.add(peer);
      });
    return this.pool.send(peer, args);
  }

  /**
   * A replica write to `peer` failed with `err`: unless the peer answered (a refusal is
   * not kept as a hint), it is owed a notice.
   */
  private noteMissed(peer: string, err: unknown): void {
    if (!(err instanceof ReplyError)) this.missed.add(peer);
  }

  /** `SYNC_HINTS`: asks `peer` to deliver the writes it keeps for `requester`; how many are left. */
  async hints(peer: string, requester: string): Promise<number> {
    const reply = await this.send(peer, [SyncCommand.hints, requester]);
    if (typeof reply !== 'number')
      throw new ReplyError(`ERR malformed SYNC_HINTS reply from ${peer}`);
    return reply;
  }

  /** `peer` was just heard from: requests to it no longer wait out a backoff. */
  heardFrom(peer: string): void {
    this.pool.forgive(peer);
  }

  /** `SYNC_DIGEST`: the digest of what `peer` holds that `requester` co-owns at `epoch`. */
  async digest(peer: string, requester: string, epoch: number): Promise<Digest> {
    const reply = await this.send(peer, [SyncCommand.digest, requester, epoch]);
    const digest = Buffer.isBuffer(reply) ? Digest.decode(reply) : undefined;
    if (!digest) throw new ReplyError(`ERR malformed SYNC_DIGEST reply from ${peer}`);
    return digest;
  }

  /** `SYNC_KEYS`: keys and versions co-owned with `requester` in `buckets`, ascending. */
  async keys(
    peer: string,
    requester: string,
    epoch: number,
    buckets: readonly number[],
  ): Promise<KeyVersionPage> {
    return decodeKeyVersions(
      await this.send(peer, [SyncCommand.keys, requester, epoch, encodeBuckets(buckets)]),
    );
  }

  /** `SYNC_GET`: the records `peer` holds for `keys`, in order (undefined for none). */
  async get(peer: string, keys: readonly Buffer[]): Promise<(StoredRecord | undefined)[]> {
    return decodeRecords(await this.send(peer, [SyncCommand.get, ...keys]), keys.length);
  }

  /** `SYNC_VERSIONS`: the versions `peer` holds for `keys`, in order (undefined for none). */
  async versions(peer: string, keys: readonly Buffer[]): Promise<(RecordVersionOf | undefined)[]> {
    return decodeVersions(await this.send(peer, [SyncCommand.versions, ...keys]), keys.length);
  }
}
