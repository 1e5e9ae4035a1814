import type { Logger } from 'winston';
import { Phase, type RingEpoch } from '@kv/ring';
import { Digest } from './digest';
import type { HintStore } from './hints';
import type { NodeMetrics } from './metrics';
import type { PeerClient } from './peer-client';
import type { CoOwnedDigests } from './sync-source';
import type { Syncer } from './syncer';
import type { UnsyncedRanges } from './unsynced-ranges';

/**
 * The most heartbeats a joining node (before it is ready) or a serving node (before the
 * ranges it gained count as synced) waits, after a round found every member at its epoch,
 * for writes placed by an older ring to be decided, however long the replica timeout. The
 * trade-off: with a replica timeout longer than this, a write placed by the older ring
 * that takes longer than this to reach its replicas can be missing from the new owner's
 * copy when it is first read alone (until anti-entropy brings it); in exchange a long
 * replica timeout (a slow link) does not hold every join back by as long.
 */
const MOST_IN_FLIGHT_HEARTBEATS = 10;

/** Options of {@link Rebalancer}. */
export interface RebalancerOptions {
  readonly selfId: string;
  readonly syncer: Syncer;
  readonly digests: CoOwnedDigests;
  readonly hints: HintStore;
  /** Peers over the connections replication uses; hints travel on them. */
  readonly replicationPeers: PeerClient;
  readonly placement: () => RingEpoch | undefined;
  /** The ranges this node gained and has not synced; kept up to date here. */
  readonly unsynced: UnsyncedRanges;
  /** Tells the coordinator this joining node has its data (`NODE_READY`). */
  readonly ready: () => Promise<void>;
  /** Peers learn a new epoch within one heartbeat interval, when they reach the coordinator. */
  readonly heartbeatIntervalMs: number;
  /**
   * The longest a replica write can take to be decided (the replica timeout): a write a
   * peer coordinated before some moment has reached its replicas, or failed, this long
   * after. Counted up to {@link MOST_IN_FLIGHT_HEARTBEATS} heartbeats.
   */
  readonly inFlightMs: number;
  /** How often replicas compare digests; 0 turns periodic anti-entropy off. */
  readonly antiEntropyIntervalMs: number;
  readonly logger: Logger;
  /** Where progress is counted. */
  readonly metrics: NodeMetrics;
  readonly now?: () => number;
  /** Told when a round completed with every peer, with when it started (`now`'s clock). */
  readonly onRoundComplete?: (startedAt: number) => void;
}

/**
 * Makes data follow placement. After every ring change (and every anti-entropy interval)
 * it runs a **round**: pull from each co-owner what this node lacks, by digest then key
 * list then values; then hand off records this node no longer owns. A round completes only
 * if every member answered at this node's epoch, so once one has, every member has learnt
 * the epoch and sends this node the writes it coordinates from then on; writes it
 * coordinated before are decided within the replica timeout. A joining node tells the
 * coordinator it is ready after completing a round it started both two heartbeats after
 * entering `joining` and a replica timeout (at most {@link MOST_IN_FLIGHT_HEARTBEATS}
 * heartbeats) after an earlier round at the same epoch completed: no member is still
 * placing writes by an older ring then, not even one that reached the coordinator late
 * (after a cut of the coordinator, members learn the epoch one by one). Ranges a
 * serving node gains with a ring change are unsynced (see {@link UnsyncedRanges}) until a
 * round that started as late after that epoch arrived completes. A failed round (a peer
 * unreachable, or still at another epoch) is retried after a short delay.
 */
export class Rebalancer {
  private readonly gauges: NodeMetrics['gauges'];
  private timer: NodeJS.Timeout | undefined;
  private readonly periodic: NodeJS.Timeout[] = [];
  private running = false;
  private again = false;
  private closed = false;
  private joiningSince: number | undefined;
  /** When the current placement arrived. */
  private placementSince = 0;
  /** When the first round at the current placement completed: every peer was at its epoch. */
  private everyPeerAt: number | undefined;
  /** The members of the last placement. */
  private members: readonly string[] = [];
  private readonly now: () => number;

  constructor(private readonly options: RebalancerOptions) {
    this.now = options.now ?? (() => performance.now());
    this.gauges = options.metrics.gauges;
    if (options.antiEntropyIntervalMs > 0) {
      this.periodic.push(setInterval(() => void this.run(), options.antiEntropyIntervalMs));
    }
    this.periodic.push(
      setInterval(() => {
        const placement = options.placement();
        if (!placement || options.hints.pending === 0) return;
        const members = new Set(placement.members());
        void options.hints.deliver(options.replicationPeers, (id) => members.has(id));
      }, options.heartbeatIntervalMs),
    );
    for (const t of this.periodic) t.unref();
  }

  /** Where this node stands in the current placement. */
  get phase(): Phase {
    return this.options.placement()?.phaseOf(this.options.selfId) ?? Phase.OUTSIDE;
  }

  /** Call on every new ring epoch. */
  onPlacement(placement: RingEpoch): void {
    for (const id of this.members)
      if (placement.phaseOf(id) === Phase.OUTSIDE) this.options.syncer.forget(id);
    this.members = placement.members();
    const phase = placement.phaseOf(this.options.selfId);
    this.placementSince = this.now();
    this.everyPeerAt = undefined;
    if (phase !== Phase.JOINING) this.joiningSince = undefined;
    else this.joiningSince ??= this.placementSince;
    this.options.unsynced.update(placement);
    this.gauges.unsyncedRanges.set(this.options.unsynced.size);
    // Give peers one heartbeat to learn the epoch, so they agree on owners.
    this.schedule(this.options.heartbeatIntervalMs);
  }

  /** Runs a round now (or right after the one running). */
  async run(): Promise<void> {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    try {
      await this.round();
    } catch (err) {
      this.options.logger.warn(`Rebalance round failed: ${(err as Error).message}; retrying`);
      this.schedule(this.retryMs());
    } finally {
      this.running = false;
      if (this.again && !this.closed) {
        this.again = false;
        // Not before peers have had a heartbeat to learn a new placement (see onPlacement).
        const wait = this.placementSince + this.options.heartbeatIntervalMs - this.now();
        this.schedule(Math.max(0, wait));
      }
    }
  }

  /**
   * Hands every record to its owners in the target ring, for a node that is leaving.
   * Resolves true once all are confirmed, false if `timeoutMs` passed first.
   */
  async leave(timeoutMs: number): Promise<boolean> {
    const deadline = this.now() + timeoutMs;
    // Writers must first learn that this node left the target ring.
    await sleep(this.options.heartbeatIntervalMs);
    for (;;) {
      const placement = this.options.placement();
      if (placement && placement.phaseOf(this.options.selfId) === Phase.LEAVING) {
        const pending = await this.options.syncer.handOff(placement, true);
        this.gauges.handoffPending.set(pending);
        if (pending === 0) return true;
      }
      if (this.now() >= deadline) return false;
      await sleep(this.retryMs());
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const t of this.periodic) clearInterval(t);
  }

  private retryMs(): number {
    return Math.max(200, this.options.heartbeatIntervalMs);
  }

  /**
   * When a round may start to see every write placed by a ring that arrived at `since`:
   * two heartbeats on (peers that reach the coordinator learn an epoch within one), and a
   * replica timeout (at most {@link MOST_IN_FLIGHT_HEARTBEATS} heartbeats) after a round at
   * this epoch completed, which shows every member had learnt it (`everyPeerAt`; the
   * current time when this round is the first).
   */
  private settledAfter(since: number, everyPeerAt: number): number {
    const { heartbeatIntervalMs, inFlightMs } = this.options;
    return Math.max(
      since + 2 * heartbeatIntervalMs,
      everyPeerAt + Math.min(inFlightMs, MOST_IN_FLIGHT_HEARTBEATS * heartbeatIntervalMs),
    );
  }

  /**
   * After a round that completed under `placement`: the unsynced ranges it pulled are
   * synced, if it started late enough; else another round is due when it would.
   */
  private markSynced(placement: RingEpoch, startedAt: number, everyPeerAt: number): void {
    const { unsynced } = this.options;
    if (!unsynced.any || this.options.placement() !== placement) return;
    const after = this.settledAfter(this.placementSince, everyPeerAt);
    if (startedAt < after) {
      this.schedule(after - this.now());
      return;
    }
    const before = unsynced.size;
    unsynced.synced(placement);
    this.gauges.unsyncedRanges.set(unsynced.size);
    if (unsynced.size < before)
      this.options.logger.info(
        `Synced ${before - unsynced.size} gained token range(s) at epoch ${placement.epoch}${unsynced.any ? `; ${unsynced.size} wait for a previous owner to return` : ''}`,
      );
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.run(), ms);
    this.timer.unref();
  }

  private async round(): Promise<void> {
    const { selfId, syncer, logger } = this.options;
    const placement = this.options.placement();
    if (!placement) return;
    const phase = placement.phaseOf(selfId);
    if (phase === Phase.OUTSIDE) return;
    const startedAt = this.now();
    const peers = placement.members().filter((id) => id !== selfId);
    const { digests, outsideTarget } = await this.options.digests.pass(placement);
    this.gauges.syncPeersPending.set(peers.length);
    let failed = 0;
    let hintsKept = 0;
    let repaired = 0;
    for (const peer of peers) {
      if (this.options.placement() !== placement) {
        this.again = true;
        return;
      }
      try {
        repaired += await syncer.pull(peer, placement, digests.get(peer) ?? new Digest());
        this.gauges.syncPeersPending.set(this.gauges.syncPeersPending.value - 1);
      } catch (err) {
        failed++;
        logger.debug(`Sync from ${peer} failed: ${(err as Error).message}`);
        continue;
      }
      try {
        await syncer.collectHints(peer);
      } catch (err) {
        // The ranges are synced all the same (a join completes), but this copy may still
        // lack the writes that peer keeps: it does not answer reads alone yet. A fenced
        // node refuses their delivery until its clock is back in bounds.
        hintsKept++;
        logger.debug(`Hints from ${peer} not delivered: ${(err as Error).message}`);
      }
    }
    this.options.metrics.counters.syncRounds.inc();
    this.gauges.lastSyncRoundAt.set(Date.now() / 1000);
    this.gauges.lastSyncRoundRepairs.set(repaired);
    if (repaired > 0)
      logger.info(`Sync round at epoch ${placement.epoch}: ${repaired} record(s) copied in`);
    if (failed > 0) {
      this.schedule(this.retryMs());
      return;
    }
    if (hintsKept === 0) this.options.onRoundComplete?.(startedAt);
    else this.schedule(this.retryMs());
    // A placement that arrived during the last pull: this round says nothing of its epoch.
    if (this.options.placement() !== placement) {
      this.again = true;
      return;
    }
    // Every member answered at this epoch: the first such round dates when all had it.
    const everyPeerAt = this.everyPeerAt ?? this.now();
    this.everyPeerAt = everyPeerAt;
    this.markSynced(placement, startedAt, everyPeerAt);
    if (phase === Phase.JOINING) {
      const readyAfter = this.settledAfter(this.joiningSince ?? startedAt, everyPeerAt);
      if (startedAt < readyAfter) {
        this.schedule(readyAfter - this.now());
        return;
      }
      logger.info(`Join complete at epoch ${placement.epoch}: ready to serve reads`);
      await this.options.ready();
      return;
    }
    // The digest pass counted what lies outside this node's ranges: none, no hand-off pass.
    if (phase === Phase.SERVING) {
      const pending = outsideTarget === 0 ? 0 : await syncer.handOff(placement, false);
      this.gauges.handoffPending.set(pending);
      if (pending > 0) this.schedule(this.retryMs());
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
