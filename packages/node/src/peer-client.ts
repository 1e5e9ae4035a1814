import { ReplyError, type ConnectionPool } from '@kv/protocol';
import { Digest, encodeBuckets } from './digest';
import type { HistogramCell } from './histogram-cell';
import type { StoredRecord } from './record';
import {
  FETCH_ALONE,
  NodeCommand,
  decodeAloneAnswer,
  decodeApplyResult,
  type AloneAnswer,
  decodeRecord,
  replicateArgs,
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
 * The node-to-node commands as typed calls over a connection pool: each request is
 * encoded and its reply decoded here, and only here. A malformed reply rejects with a
 * `ReplyError`; an unreachable peer rejects with the pool's error.
 */
export class PeerClient {
  /** @param latency - where the round trips of REPLICATE and FETCH are recorded */
  constructor(
    private readonly pool: ConnectionPool,
    private readonly latency?: HistogramCell,
  ) {}

  /** False while the pool knows `peer` to be unreachable. */
  isAvailable(peer: string): boolean {
    return this.pool.isAvailable(peer);
  }

  /** `REPLICATE`: merges `record` on `peer`; what the peer holds afterwards. */
  async replicate(peer: string, key: Buffer, record: StoredRecord): Promise<ApplyResult> {
    return decodeApplyResult(await this.timed(peer, replicateArgs(key, record)));
  }

  /** `FETCH`: the record `peer` holds for `key`, tombstones included. */
  async fetch(peer: string, key: Buffer): Promise<StoredRecord | undefined> {
    return decodeRecord(await this.timed(peer, [NodeCommand.fetch, key]));
  }

  /** `FETCH key ALONE`: the record, and whether `peer` may answer an R=1 read alone. */
  async fetchAlone(peer: string, key: Buffer): Promise<AloneAnswer> {
    return decodeAloneAnswer(await this.timed(peer, [NodeCommand.fetch, key, FETCH_ALONE]));
  }

  /** A request on the replica path, its round trip recorded whatever its outcome. */
  private async timed(
    peer: string,
    args: Parameters<ConnectionPool['send']>[1],
  ): ReturnType<ConnectionPool['send']> {
    const startedAt = performance.now();
    try {
      return await this.pool.send(peer, args);
    } finally {
      this.latency?.observe((performance.now() - startedAt) / 1000);
    }
  }

  /** `SYNC_HINTS`: asks `peer` to deliver the writes it keeps for `requester`; how many are left. */
  async hints(peer: string, requester: string): Promise<number> {
    const reply = await this.pool.send(peer, [SyncCommand.hints, requester]);
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
    const reply = await this.pool.send(peer, [SyncCommand.digest, requester, epoch]);
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
      await this.pool.send(peer, [SyncCommand.keys, requester, epoch, encodeBuckets(buckets)]),
    );
  }

  /** `SYNC_GET`: the records `peer` holds for `keys`, in order (undefined for none). */
  async get(peer: string, keys: readonly Buffer[]): Promise<(StoredRecord | undefined)[]> {
    return decodeRecords(await this.pool.send(peer, [SyncCommand.get, ...keys]), keys.length);
  }

  /** `SYNC_VERSIONS`: the versions `peer` holds for `keys`, in order (undefined for none). */
  async versions(peer: string, keys: readonly Buffer[]): Promise<(RecordVersionOf | undefined)[]> {
    return decodeVersions(await this.pool.send(peer, [SyncCommand.versions, ...keys]), keys.length);
  }
}
