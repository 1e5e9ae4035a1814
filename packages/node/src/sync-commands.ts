import { ErrorCode, ReplyError, type Reply } from '@kv/protocol';
import { decodeBuckets } from './digest';
import { wrongArgs } from './errors';
import type { Placement } from './placement';
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

/** What the sync commands need from the node. */
export interface SyncContext {
  readonly selfId: string;
  readonly store: Store;
  placement(): Placement | undefined;
  /** This node's co-owned digests, shared with its own sync rounds. */
  readonly digests: CoOwnedDigests;
}

/** The placement at `epoch`, or `-UNAVAILABLE` naming this node's epoch. */
function placementAt(ctx: SyncContext, epoch: number): Placement {
  const placement = ctx.placement();
  if (!placement || placement.epoch !== epoch)
    throw new ReplyError(
      `${ErrorCode.UNAVAILABLE} ring epoch ${epoch} asked, this node is at ${placement?.epoch ?? 'none'}: try again`,
    );
  return placement;
}

/** Fails if the ring moved on while a pass ran: its owners would be mixed. */
function stillAt(ctx: SyncContext, placement: Placement): void {
  if (ctx.placement() !== placement) placementAt(ctx, placement.epoch);
}

function keyBatch(args: Buffer[], command: string): Buffer[] {
  const keys = args.slice(1);
  if (keys.length > MAX_KEYS_PER_REQUEST)
    throw wrongArgs(`${command} takes at most ${MAX_KEYS_PER_REQUEST} keys`);
  return keys;
}

interface SyncCommandSpec {
  readonly min: number;
  readonly max: number;
  readonly usage: string;
  readonly run: (args: Buffer[], ctx: SyncContext) => Reply | Promise<Reply>;
}

/** The node-to-node commands that move data; see sync-protocol.ts for their shapes. */
export const SYNC_COMMANDS: Readonly<Record<string, SyncCommandSpec>> = {
  [SyncCommand.digest]: {
    min: 3,
    max: 3,
    usage: 'SYNC_DIGEST requester epoch',
    async run(args, ctx) {
      const { requester, epoch } = requesterArgs(args);
      const placement = placementAt(ctx, epoch);
      const digest = await ctx.digests.for(placement, requester);
      stillAt(ctx, placement);
      return digest.encode();
    },
  },
  [SyncCommand.keys]: {
    min: 4,
    max: 4,
    usage: 'SYNC_KEYS requester epoch buckets',
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
  [SyncCommand.get]: {
    min: 2,
    max: Infinity,
    usage: 'SYNC_GET key [key ...]',
    run: (args, ctx) =>
      encodeRecords(keyBatch(args, SyncCommand.get).map((k) => ctx.store.read(k))),
  },
  [SyncCommand.versions]: {
    min: 2,
    max: Infinity,
    usage: 'SYNC_VERSIONS key [key ...]',
    run: (args, ctx) =>
      keyBatch(args, SyncCommand.versions).map((k) => encodeVersion(ctx.store.read(k))),
  },
};
