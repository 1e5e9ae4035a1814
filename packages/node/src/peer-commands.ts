import { ErrorCode, OK, ReplyError, Scope, type CommandTable, type Reply } from '@kv/protocol';
import type { RingEpoch } from '@kv/ring';
import { decodeBuckets } from './digest';
import { integerArg } from './command-args';
import { wrongArgs } from './errors';
import {
  FETCH_ALONE,
  MAX_BATCH_RECORDS,
  NodeCommand,
  encodeAloneAnswer,
  encodeApplyResult,
  encodeRecord,
  parseReplicate,
  parseReplicateBatch,
  type KeyedRecord,
} from './replication';
import type { Store } from './store';
import {
  MAX_KEYS_PER_REQUEST,
  SyncCommand,
  encodeKeyVersions,
  encodeRecords,
  encodeVersion,
  requesterArgs,
} from './sync-protocol';
import { coOwnedKeys, type CoOwnedDigests } from './sync-source';

/** What the node-to-node commands need from the node. */
export interface PeerContext {
  readonly selfId: string;
  readonly store: Store;
  placement(): RingEpoch | undefined;
  /** This node's co-owned digests, shared with its own sync rounds. */
  readonly digests: CoOwnedDigests;
  /**
   * Throws a `CLOCKSKEW` reply while this node's clock is out of bounds, refusing the
   * `records` of one request (1 unless given).
   */
  beforeReplicaWrite(records?: number): void;
  /**
   * False while this node's copy of `key` may lack acknowledged writes: it was fenced, cut
   * off or paused and has not synced since, or has not synced the key's range since it
   * gained it.
   */
  answersAlone(key: Buffer, askerEpoch?: number): boolean;
  /** Peer `id` just sent a request: it is reachable, whatever backoff it was under. */
  heardFrom(id: string): void;
  /** Delivers (some of) the hints kept for `replica`; how many are left for it. */
  deliverHints(replica: string): Promise<number>;
  /**
   * The member at `remote` kept a write for this node as a hint instead of sending it: this
   * node's copy may lack it until a sync round collects the hints.
   */
  missedWrites(remote: string): void;
}

/** The placement at `epoch`, or `-UNAVAILABLE` naming this node's epoch. */
function placementAt(ctx: PeerContext, epoch: number): RingEpoch {
  const placement = ctx.placement();
  if (!placement || placement.epoch !== epoch)
    throw new ReplyError(
      `${ErrorCode.UNAVAILABLE} ring epoch ${epoch} asked, this node is at ${placement?.epoch ?? 'none'}: try again`,
    );
  return placement;
}

/** Fails if the ring moved on while a pass ran: its owners would be mixed. */
function stillAt(ctx: PeerContext, placement: RingEpoch): void {
  if (ctx.placement() !== placement) placementAt(ctx, placement.epoch);
}

function keyBatch(args: Buffer[], command: string): Buffer[] {
  const keys = args.slice(1);
  if (keys.length > MAX_KEYS_PER_REQUEST)
    throw wrongArgs(`${command} takes at most ${MAX_KEYS_PER_REQUEST} keys`);
  return keys;
}

/** An error refusing one record of a batch is that record's answer; any other fails the batch. */
function refusal(err: unknown): ReplyError {
  if (err instanceof ReplyError) return err;
  throw err;
}

/**
 * Applies the records of a batch in order, in one turn: a durable engine commits the writes
 * of one turn in one transaction (and one sync). Each record's answer, or its refusal; an
 * error that is no refusal (an engine failing) fails the batch once every write settled.
 */
function applyBatch(store: Store, entries: readonly KeyedRecord[]): Reply | Promise<Reply> {
  const answers: Reply[] = new Array(entries.length);
  const writes: Promise<void>[] = [];
  let failure: { err: unknown } | undefined;
  for (let i = 0; i < entries.length; i++) {
    const { key, record } = entries[i] as KeyedRecord;
    try {
      const result = store.apply(key, record);
      if (!(result instanceof Promise)) answers[i] = encodeApplyResult(result);
      else
        writes.push(
          result.then(
            (applied) => void (answers[i] = encodeApplyResult(applied)),
            (err: unknown) => void (answers[i] = refusal(err)),
          ),
        );
    } catch (err) {
      if (err instanceof ReplyError) answers[i] = err;
      else failure ??= { err };
    }
  }
  const done = (): Reply => {
    if (failure) throw failure.err;
    return answers;
  };
  return writes.length === 0 ? done() : Promise.all(writes).then(done);
}

const RECORD =
  'null, or `[ts, origin, expiresAt, value or null]`; an expired record comes without its value';
const EPOCH_MISMATCH = '`-UNAVAILABLE ring epoch N asked, this node is at M: try again`';

/**
 * The commands only nodes send each other: replication of a write (REPLICATE, or the
 * writes of one turn to one replica together: REPLICATE_BATCH), a replica's
 * record for reads and read repair (FETCH), the SYNC_* commands that move data when
 * placement changes (see sync-protocol.ts for their shapes), and SYNC_HINTS, by which a node
 * that missed writes has them delivered before it answers reads alone again.
 */
export const PEER_COMMANDS: CommandTable<PeerContext> = {
  [NodeCommand.replicate]: {
    scope: Scope.peer,
    arity: [4, 5],
    usage: 'REPLICATE key ts origin expiresAt [value]',
    reply:
      '`[applied 0/1, existed 0/1, ts, origin]`: the version held afterwards; no value stores a tombstone',
    errors:
      "`-WRONGARGS` for a ts or expiresAt that is not a non-negative integer; `-CLOCKSKEW` for a version further ahead of this node's clock than `--max-clock-offset`, or while this node's own clock is out of bounds",
    run: (args, ctx) => {
      const { key, record } = parseReplicate(args);
      ctx.beforeReplicaWrite();
      const result = ctx.store.apply(key, record);
      return result instanceof Promise ? result.then(encodeApplyResult) : encodeApplyResult(result);
    },
  },
  [NodeCommand.replicateBatch]: {
    scope: Scope.peer,
    arity: [7, 1 + 6 * MAX_BATCH_RECORDS],
    usage: 'REPLICATE_BATCH n record [record ...]',
    reply: `n answers in order, each REPLICATE's or the error refusing that record. A record is \`key ts origin expiresAt hasValue value\`; hasValue 0 (empty value) stores a tombstone; n ≤ ${MAX_BATCH_RECORDS}`,
    errors:
      "`-WRONGARGS` for a count that does not match the records or a field that does not parse (nothing applied); `-CLOCKSKEW` while this node's own clock is out of bounds (all refused)",
    run: (args, ctx) => {
      const entries = parseReplicateBatch(args);
      ctx.beforeReplicaWrite(entries.length);
      return applyBatch(ctx.store, entries);
    },
  },
  [NodeCommand.fetch]: {
    scope: Scope.peer,
    arity: [1, 3],
    usage: `FETCH key [${FETCH_ALONE} [epoch]]`,
    reply: `${RECORD}. With ${FETCH_ALONE} (an R=1 read): \`[alone 0/1, that record]\`, 0 while this node's copy may lack writes (fenced, cut off or paused, syncing the key's range or handing it to another owner (a joining node, or the next owner as this node leaves), or still at a ring epoch older than the asker's \`epoch\`, so writes made at the newer one may not have come here), so the asker reads another copy too`,
    errors: `\`-WRONGARGS\` for a flag other than ${FETCH_ALONE}, or an epoch that is not a whole number`,
    run: (args, ctx) => {
      const key = args[1] as Buffer;
      if (args.length === 2) return encodeRecord(ctx.store.forPeer(key));
      if ((args[2] as Buffer).toString('latin1').toUpperCase() !== FETCH_ALONE)
        throw wrongArgs(`the only flag of FETCH is ${FETCH_ALONE}`);
      const epoch =
        args.length === 4
          ? integerArg(args[3], `the epoch of FETCH ... ${FETCH_ALONE}`)
          : undefined;
      return encodeAloneAnswer(ctx.answersAlone(key, epoch), ctx.store.forPeer(key));
    },
  },
  [SyncCommand.digest]: {
    scope: Scope.peer,
    arity: [2, 2],
    usage: 'SYNC_DIGEST requester epoch',
    reply:
      'bulk: 1,024 × (count, hash, hash) as little-endian u32: a digest of the records held whose owners include both nodes',
    errors: EPOCH_MISMATCH,
    async run(args, ctx) {
      const { requester, epoch } = requesterArgs(args);
      ctx.heardFrom(requester);
      const placement = placementAt(ctx, epoch);
      const digest = await ctx.digests.for(placement, requester);
      stillAt(ctx, placement);
      return digest.encode();
    },
  },
  [SyncCommand.keys]: {
    scope: Scope.peer,
    arity: [3, 3],
    usage: 'SYNC_KEYS requester epoch buckets',
    reply:
      '`[next bucket or -1, key, ts, origin, key, ts, origin, ...]` of those records in the buckets (a 128-byte bitmap), cut at a bucket boundary after 50,000',
    errors: `${EPOCH_MISMATCH}; \`-WRONGARGS\` for a bitmap that is not 128 bytes`,
    async run(args, ctx) {
      const { requester, epoch } = requesterArgs(args);
      const wanted = decodeBuckets(args[3] as Buffer);
      if (!wanted) throw wrongArgs('buckets must be a 128-byte bitmap');
      const placement = placementAt(ctx, epoch);
      const { next, entries } = await coOwnedKeys(
        ctx.store,
        placement,
        ctx.selfId,
        requester,
        wanted,
      );
      stillAt(ctx, placement);
      return encodeKeyVersions(next, entries);
    },
  },
  [NodeCommand.replicaMissed]: {
    scope: Scope.peer,
    arity: [0, 0],
    usage: 'REPLICA_MISSED',
    reply:
      "`+OK`. Sent by a member that could not send this node a record it should hold (a write it coordinated, then kept as a hint; or a hint, a read repair or a hand-off), because its queue of requests to this node was full or it could not reach this node (it could not dial it, was backing off after a failure, or the connection broke): this node's copy may lack acknowledged writes, so it does not answer R=1 reads alone until a sync round, which collects the hints kept for it, completes",
    run: (_args, ctx, connection) => {
      ctx.missedWrites(connection.remoteAddress);
      return OK;
    },
  },
  [SyncCommand.hints]: {
    scope: Scope.peer,
    arity: [1, 1],
    usage: 'SYNC_HINTS requester',
    reply:
      'integer: hints still kept for the requester after delivering it a batch of them over the replication connection (0: none left)',
    run: (args, ctx) => {
      const requester = (args[1] as Buffer).toString();
      ctx.heardFrom(requester);
      return ctx.deliverHints(requester);
    },
  },
  [SyncCommand.get]: {
    scope: Scope.peer,
    arity: [1, Infinity],
    usage: 'SYNC_GET key [key ...]',
    reply: `per key (at most ${MAX_KEYS_PER_REQUEST}): ${RECORD}`,
    errors: `\`-WRONGARGS\` for more than ${MAX_KEYS_PER_REQUEST} keys`,
    run: (args, ctx) =>
      encodeRecords(keyBatch(args, SyncCommand.get).map((k) => ctx.store.forPeer(k))),
  },
  [SyncCommand.versions]: {
    scope: Scope.peer,
    arity: [1, Infinity],
    usage: 'SYNC_VERSIONS key [key ...]',
    reply: `per key (at most ${MAX_KEYS_PER_REQUEST}): null, or \`[ts, origin]\`; a version whose commit is under way (\`--fsync periodic\` or \`never\`) is answered once it is committed`,
    errors: `\`-WRONGARGS\` for more than ${MAX_KEYS_PER_REQUEST} keys; \`-UNAVAILABLE\` when such a commit fails`,
    run: (args, ctx) => {
      const keys = keyBatch(args, SyncCommand.versions);
      const held = keys.map((k) => encodeVersion(ctx.store.read(k)));
      // A node handing records off drops its copy of those this answer says are held here:
      // a version whose commit is under way is vouched for once it is committed.
      const committing = ctx.store.committing(keys);
      return committing ? committing.then(() => held) : held;
    },
  },
};
