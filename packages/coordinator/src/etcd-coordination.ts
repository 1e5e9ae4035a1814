import { ErrorCode, ReplyError, type RespValue } from '@kv/protocol';
import type { Logger } from 'winston';
import { NotLeaderError } from './errors';
import type { FailureDetector } from './failure-detector';
import { LeaderElection, Role, type ElectionBackend } from './leader-election';
import type { LeaderForwarder } from './leader-forwarder';
import { describeChange } from './change-log';
import type { Membership, MembershipChange, MembershipState } from './membership';
import type { MembershipStore } from './membership-store';
import { warnOnRingOptions } from './ring-options';

/** What commands that change membership need from a coordinator among several. */
export interface Leadership {
  /**
   * Where a membership change runs: `undefined` when this coordinator leads (it runs the
   * command), else the leader's reply to it.
   * @throws `-UNAVAILABLE` while no coordinator leads
   */
  route(args: readonly Buffer[]): Promise<RespValue> | undefined;
  /** @throws `-UNAVAILABLE` unless this coordinator leads (for forwarded changes) */
  assertLeads(): void;
}

/**
 * A store several coordinators share: the membership, an election, fenced writes and a
 * watch. {@link EtcdStore} on etcd; an in-memory one in tests.
 */
export interface SharedStore extends MembershipStore, ElectionBackend {
  /** Makes every later save succeed only while `lease` holds the leader key; undefined refuses all. */
  fenceWith(lease: string | undefined): void;
  /** Calls `onState` with every state saved from now on, by any coordinator. */
  watch(onState: (state: MembershipState) => void, onError: (err: unknown) => void): Promise<void>;
  /** Stops watching and disconnects. */
  close(): Promise<void>;
}

/** Options of {@link EtcdCoordination}. */
export interface EtcdCoordinationOptions {
  readonly store: SharedStore;
  readonly membership: Membership;
  /** Runs while this coordinator leads, and only then. */
  readonly detector: FailureDetector;
  readonly forwarder: LeaderForwarder;
  /** This coordinator's address, as followers reach it (known once it listens). */
  readonly candidate: () => string;
  readonly ttlSeconds: number;
  readonly now: () => number;
  readonly logger: Logger;
}

/**
 * One coordinator among several keeping membership in etcd. They elect a leader through
 * an etcd lease ({@link LeaderElection}); the leader alone runs the failure detector and
 * writes the membership, each write fenced by its lease ({@link EtcdStore.save}). The
 * followers keep a copy of the state (watched in etcd) to answer reads, and forward the
 * commands that change membership, heartbeats included, to the leader. A follower lists
 * the ring's members as `up` (the leader removes those it stops hearing from), their
 * heartbeat age counted from the last change of the state it saw.
 *
 * A new leader reads the state from etcd before it acts and counts every member as heard
 * from at that moment: nobody is declared dead before a full failure timeout of the new
 * leader's own observation.
 */
export class EtcdCoordination implements Leadership {
  private readonly election: LeaderElection;
  private readonly store: SharedStore;
  private readonly membership: Membership;
  private readonly logger: Logger;
  /** Leading, and the state read from etcd since it was elected. */
  private ready = false;
  /** The last state known to be in etcd: what this coordinator falls back to on stepping down. */
  private saved: MembershipState | undefined;
  /** Whether the last election round with etcd succeeded. */
  reachable = true;

  constructor(private readonly options: EtcdCoordinationOptions) {
    this.store = options.store;
    this.membership = options.membership;
    this.logger = options.logger;
    this.election = new LeaderElection({
      backend: options.store,
      candidate: options.candidate,
      ttlSeconds: options.ttlSeconds,
      now: options.now,
      onElected: (lease) => void this.takeOver(lease),
      onDeposed: (reason) => this.stepDown(reason),
      onError: (err) => {
        if (!this.reachable) {
          this.logger.debug(`etcd: ${describe(err)}`);
          return;
        }
        this.reachable = false;
        this.logger.warn(
          `The election round with etcd failed (${describe(err)}); retrying every ${Math.round(this.election.intervalMs)} ms`,
        );
      },
      onAnswered: () => {
        if (this.reachable) return;
        this.reachable = true;
        this.logger.info('etcd answers again');
      },
    });
  }

  /** `leader` once it leads and has read the state, else `follower`. */
  get role(): Role {
    return this.leads() ? Role.LEADER : Role.FOLLOWER;
  }

  /** The leader's address as last seen, or undefined. */
  get leader(): string | undefined {
    return this.election.leader;
  }

  /** Where the state lives. */
  get location(): string {
    return this.store.location;
  }

  /** True while this coordinator leads and has read the state. */
  leads(): boolean {
    return this.election.leads() && this.ready;
  }

  /**
   * Reads the state, watches it, and starts campaigning.
   * @throws {@link EtcdUnavailableError} when etcd cannot be reached,
   *   {@link EtcdStateError} when its state is unusable
   */
  async start(): Promise<void> {
    try {
      const state = await this.store.load();
      if (state) {
        // The ring in etcd stands whatever this coordinator's flags say.
        warnOnRingOptions(this.logger, this.location, state.ring, this.membership.toState().ring);
        this.adopt(state);
      }
      await this.store.watch(
        (watched) => this.follow(watched),
        (err) => this.logger.warn(`Watching the membership in etcd failed: ${describe(err)}`),
      );
    } catch (err) {
      await this.store.close();
      throw err;
    }
    this.logger.info(
      `Membership in ${this.location} at epoch ${this.membership.epoch}; campaigning to lead as ${this.options.candidate()}`,
    );
    this.election.start();
  }

  /** Runs one election round now (renew or obtain the lease, campaign while following). */
  campaign(): Promise<void> {
    return this.election.tick();
  }

  route(args: readonly Buffer[]): Promise<RespValue> | undefined {
    if (this.leads()) return undefined;
    const leader = this.election.leader;
    if (leader === undefined || leader === this.options.candidate())
      throw unavailable('no coordinator leads at the moment (an election is under way): retry');
    return this.options.forwarder.forward(leader, args).then(async (reply) => {
      // The node asks this coordinator for the ring next: have the epoch it was told of.
      const epoch = epochOf(reply);
      if (epoch !== undefined && epoch > this.membership.epoch) await this.refresh();
      return reply;
    });
  }

  assertLeads(): void {
    if (!this.leads())
      throw unavailable('this coordinator does not lead: send membership changes to the leader');
  }

  /**
   * Saves the state after `change`, fenced by the lease, then logs the change. A change
   * that is not saved, because etcd refused it (this coordinator no longer leads) or could
   * not be reached, is dropped: the coordinator resigns, takes etcd's state back, and the
   * change is answered `-UNAVAILABLE` (the member retries, through the next leader).
   */
  async commit(change: MembershipChange, state: MembershipState): Promise<void> {
    try {
      if (!this.leads()) throw new NotLeaderError();
      await this.store.save(state);
      this.saved = state;
    } catch (err) {
      const reason = err instanceof NotLeaderError ? err.message : describe(err);
      this.logger.warn(`Dropped a change of ${change.member.id} (${change.kind}): ${reason}`);
      await this.election.resign(reason);
      throw unavailable(
        'this coordinator could not save the change (it stopped leading, or etcd is unreachable): retry',
      );
    }
    for (const { level, message } of describeChange(change)) this.logger.log(level, message);
  }

  /** Stops campaigning, resigns if leading, closes etcd. */
  async close(): Promise<void> {
    await this.election.stop();
    this.options.forwarder.close();
    await this.store.close();
  }

  private async takeOver(lease: string): Promise<void> {
    this.store.fenceWith(lease);
    try {
      const state = await this.store.load();
      if (!this.election.leads()) return;
      if (state) {
        // The leader before may have shown members epochs it never saved (a change made
        // while its save was under way): this term starts past any of them, so no epoch
        // number ever names two different rings.
        const term = { ...state, epoch: state.epoch + TERM_EPOCH_GAP };
        await this.store.save(term);
        this.saved = term;
        this.membership.adopt(term);
      } else this.membership.adopt(this.membership.toState());
      this.ready = true;
      this.options.detector.start();
      this.logger.warn(
        `Leading the coordinators (lease ${lease}): epoch ${this.membership.epoch}, ` +
          `${this.membership.ring.size} member(s) on probation until they heartbeat; no ` +
          `node is declared dead before ${this.options.detector.failureTimeoutMs} ms of silence seen here`,
      );
    } catch (err) {
      this.logger.error(
        `Could not read and save the membership after winning the election: ${describe(err)}`,
      );
      await this.election.resign('the membership could not be read and saved');
    }
  }

  private stepDown(reason: string): void {
    const wasReady = this.ready;
    this.ready = false;
    this.store.fenceWith(undefined);
    this.options.detector.stop();
    if (wasReady) this.logger.warn(`No longer leading: ${reason}`);
    // What it changed and could not save is dropped: etcd's state is the cluster's. The
    // last state known saved stands until etcd can be read, so an unsaved ring is not
    // served meanwhile.
    if (this.saved && this.saved.epoch !== this.membership.epoch) {
      this.logger.warn(
        `Dropping epoch ${this.membership.epoch}, never saved: back to epoch ${this.saved.epoch}`,
      );
      this.membership.adopt(this.saved, true);
    }
    void this.refresh(true);
  }

  /** A state written to etcd: a follower takes it; the leader wrote it itself. */
  private follow(state: MembershipState): void {
    if (this.election.leads() || state.epoch <= this.membership.epoch) return;
    this.adopt(state);
  }

  /** Takes a state read from etcd, as a follower. */
  private adopt(state: MembershipState): void {
    this.saved = state;
    this.membership.adopt(state, true);
  }

  /** Reads the state from etcd; takes it if newer, or in any case when `always`. */
  private async refresh(always = false): Promise<void> {
    try {
      const state = await this.store.load();
      if (state === undefined || this.election.leads()) return;
      if (state.epoch < this.membership.epoch)
        this.logger.warn(
          `Dropping epoch ${this.membership.epoch}, never saved: etcd holds epoch ${state.epoch}`,
        );
      if (always || state.epoch > this.membership.epoch) this.adopt(state);
    } catch (err) {
      this.logger.warn(`Could not read the membership from etcd: ${describe(err)}`);
    }
  }
}

/**
 * How far a new leader moves the epoch past the last one saved: more than the changes a
 * leader can have shown members without saving them (one per save under way).
 */
export const TERM_EPOCH_GAP = 1000;

function unavailable(message: string): ReplyError {
  return new ReplyError(`${ErrorCode.UNAVAILABLE} ${message}`);
}

/** The epoch a membership command answered: an integer, or `[id, epoch]`. */
function epochOf(reply: RespValue): number | undefined {
  if (typeof reply === 'number') return reply;
  if (Array.isArray(reply) && typeof reply[1] === 'number') return reply[1];
  return undefined;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
