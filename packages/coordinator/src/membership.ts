import { Buffer } from 'node:buffer';
import {
  DEFAULT_ZONE,
  Phase,
  Ring,
  RingEpoch,
  type Member,
  type RingJSON,
  type RingOptions,
} from '@kv/ring';
import { NotRegisteredError } from './errors';
import { MemberLiveness } from './member-liveness';
import { MemberState, type MemberStatus } from './member-state';

/** Kinds of membership change; each bumps the epoch by exactly 1. */
export const ChangeKind = {
  /** A node registered and entered the target ring; it takes writes, not yet reads. */
  JOINING: 'joining',
  /** A node entered the ring that serves reads: the first node, or a joining one that is ready. */
  JOINED: 'joined',
  /** A member registered again with a different zone or weight. */
  UPDATED: 'updated',
  /** A member announced it is leaving: it left the target ring and hands off its data. */
  LEAVING: 'leaving',
  /** A member sent UNREGISTER_NODE. */
  LEFT: 'left',
  /** A member was silent for the failure timeout. */
  DIED: 'died',
} as const;

/** One of the {@link ChangeKind} values. */
export type ChangeKind = (typeof ChangeKind)[keyof typeof ChangeKind];

/** A change of ring membership, with the epoch it produced. */
export type MembershipChange =
  | { readonly kind: 'joining'; readonly member: Member; readonly epoch: number }
  | { readonly kind: 'joined'; readonly member: Member; readonly epoch: number }
  | { readonly kind: 'leaving'; readonly member: Member; readonly epoch: number }
  | {
      readonly kind: 'updated';
      readonly member: Member;
      readonly previous: Member;
      readonly epoch: number;
    }
  | { readonly kind: 'left'; readonly member: Member; readonly epoch: number }
  | {
      readonly kind: 'died';
      readonly member: Member;
      /** How long the member had been silent when it was declared dead. */
      readonly silentMs: number;
      readonly epoch: number;
    };

/** What {@link Membership.register} did. */
export interface Registration {
  /** The node id. */
  readonly id: string;
  /** The epoch after the registration. */
  readonly epoch: number;
  /** The change, or `undefined` when a member re-registered unchanged (no epoch bump). */
  readonly change: MembershipChange | undefined;
}

/** What persists across coordinator restarts: the epoch and the rings (options and members). */
export interface MembershipState {
  /** The ring epoch. */
  readonly epoch: number;
  /** The serialised ring that serves reads. */
  readonly ring: RingJSON;
  /** The serialised target ring, when a node is joining or leaving. */
  readonly target?: RingJSON;
}

/** Options of {@link Membership}. */
export interface MembershipOptions {
  /**
   * Options of the ring; fixed for the life of the membership.
   * @default the @kv/ring defaults
   */
  readonly ring?: RingOptions;
  /**
   * Clock in milliseconds. Only differences matter, so a monotonic clock is best.
   * @default performance.now
   */
  readonly now?: () => number;
  /**
   * Most dead members remembered for `LIST_NODES ALL`; the oldest are forgotten first.
   * @default 100
   */
  readonly maxDeadRemembered?: number;
}

/** Zone and weight a node registers with. */
export interface RegisterOptions {
  /**
   * Failure domain.
   * @default ""
   */
  readonly zone?: string;
  /**
   * Relative capacity, a finite number greater than 0 (REGISTER_NODE takes at most `MAX_WEIGHT`).
   * @default 1
   */
  readonly weight?: number;
  /**
   * The node copies its ranges from their current owners before it serves reads, and
   * says so with `NODE_READY`: a new node enters as `joining`, and so does a member that
   * registers again with an empty store. Without it a node serves at once.
   * @default false
   */
  readonly joining?: boolean;
}

/** Default of {@link MembershipOptions.maxDeadRemembered}. */
export const MAX_DEAD_REMEMBERED = 100;

const monotonicNow = (): number => performance.now();

/**
 * The cluster's membership: the ring epoch (the ring reads are routed by and the target
 * ring placement is heading to, see {@link RingEpoch}), when each member was last heard
 * from, and the most recently dead. Pure bookkeeping with an injected clock: no sockets, no
 * timers, no files. Every change of ring membership bumps the epoch by 1 and is returned as
 * a {@link MembershipChange} so the caller can log and persist it.
 */
export class Membership {
  /** The rings and their epoch: `up`, `probation` and `leaving` members read, `joining` ones not. */
  private current: RingEpoch;
  /** The clock heartbeat times are read from. */
  readonly now: () => number;
  private readonly liveness: MemberLiveness;

  /** An empty membership at epoch 0. */
  constructor(options: MembershipOptions = {}) {
    this.current = new RingEpoch(0, new Ring([], options.ring));
    this.now = options.now ?? monotonicNow;
    this.liveness = new MemberLiveness(this.now, options.maxDeadRemembered ?? MAX_DEAD_REMEMBERED);
  }

  /**
   * A membership restored from a saved state: same epoch and ring, every member on
   * probation as if it had heartbeated at the moment of the restore. `options.ring` is
   * ignored: the saved ring options win.
   *
   * @throws whatever `Ring.fromJSON` throws for a malformed ring
   */
  static restore(state: MembershipState, options: MembershipOptions = {}): Membership {
    const membership = new Membership(options);
    membership.adopt(state);
    return membership;
  }

  /**
   * Takes `state` as the membership, as {@link restore} does, in place: the epoch and rings
   * become the saved ones and every member is on probation as if heard from now, so a
   * member is declared dead only after a full failure timeout of this process's own
   * observation. For a coordinator that learns the state from a shared store.
   *
   * @param heard - members are `up`, heard from now, instead: for a coordinator that
   *   follows the one deciding deaths, whose ring holds only members it hears from
   * @throws whatever `Ring.fromJSON` throws for a malformed ring; the membership is then
   *   unchanged
   */
  adopt(state: MembershipState, heard = false): void {
    const ring = Ring.fromJSON(state.ring);
    this.current = new RingEpoch(
      state.epoch,
      ring,
      state.target ? Ring.fromJSON(state.target, ring) : ring,
    );
    this.liveness.reset();
    for (const id of this.current.members()) {
      if (heard) this.liveness.heard(id);
      else this.liveness.restored(id);
    }
  }

  /** The ring epoch: it grows by one per membership change (and jumps when a new leader takes over on etcd). */
  get epoch(): number {
    return this.current.epoch;
  }

  /** The ring reads are routed by (an immutable value). */
  get ring(): Ring {
    return this.current.read;
  }

  /**
   * The ring writes are placed by: the read ring with joining members added and leaving
   * ones removed. The same object as {@link ring} when no node is joining or leaving.
   */
  get target(): Ring {
    return this.current.target;
  }

  /** The epoch with both rings, as nodes and clients rebuild it from `RING`. */
  get ringEpoch(): RingEpoch {
    return this.current;
  }

  /**
   * Adds a node to the ring, or refreshes a member. A member registering with the same
   * zone and weight is refreshed (its heartbeat clock restarts, probation ends) without an
   * epoch bump; a different zone or weight changes the ring and bumps the epoch.
   *
   * @throws the @kv/ring error for an invalid id, zone or weight, or `RingTooLargeError`
   *   when the ring would exceed its virtual node limit; the membership is then unchanged
   */
  register(id: string, options: RegisterOptions = {}): Registration {
    const { zone = DEFAULT_ZONE, weight = 1, joining = false } = options;
    const { read, target } = this.current;
    const current = this.current.member(id);
    let change: MembershipChange | undefined;
    if (current === undefined) {
      const member = { id, zone, weight };
      // A node that copies its data first joins the target ring only; the first node has
      // nobody to copy from, and one that does not stream serves at once.
      if (joining && read.size > 0) {
        change = this.move(ChangeKind.JOINING, id, read, target.add(member));
      } else {
        const ring = read.add(member);
        change = this.move(
          ChangeKind.JOINED,
          id,
          ring,
          this.current.settled ? ring : target.add(member),
        );
      }
    } else if (current.zone !== zone || current.weight !== weight) {
      const update = (ring: Ring): Ring =>
        !ring.has(id)
          ? ring
          : current.zone === zone
            ? ring.reweight(id, weight)
            : ring.remove(id).add({ id, zone, weight });
      const { member, epoch } = this.move(ChangeKind.UPDATED, id, update(read), update(target));
      change = { kind: ChangeKind.UPDATED, member, previous: current, epoch };
    } else if (joining && this.current.phaseOf(id) === Phase.SERVING && read.size > 1) {
      // A member restarted empty: it must not serve reads before it has its data back.
      change = this.move(ChangeKind.JOINING, id, read.remove(id), target);
    }
    this.liveness.heard(id);
    return { id, epoch: this.epoch, change };
  }

  /**
   * A joining member has its data: it enters the ring that serves reads. Idempotent.
   * @returns the change, or undefined when the member was not joining
   * @throws {@link NotRegisteredError} if `id` is not a member
   */
  ready(id: string): MembershipChange | undefined {
    const member = this.current.target.member(id);
    if (member === undefined || !this.liveness.has(id)) throw new NotRegisteredError(id);
    if (this.current.read.has(id)) return undefined;
    return this.move(ChangeKind.JOINED, id, this.current.read.add(member), this.current.target);
  }

  /**
   * A member is about to leave: it leaves the target ring (writes go to the next owners)
   * and keeps serving reads while it hands off its data. Idempotent. A member still
   * joining has nothing to hand off and is removed at once.
   * @throws {@link NotRegisteredError} if `id` is not a member
   */
  leave(id: string): MembershipChange | undefined {
    if (!this.liveness.has(id)) throw new NotRegisteredError(id);
    const phase = this.current.phaseOf(id);
    if (phase === Phase.LEAVING) return undefined;
    if (phase !== Phase.SERVING) return this.unregister(id);
    return this.move(ChangeKind.LEAVING, id, this.current.read, this.current.target.remove(id));
  }

  /** `joining` or `leaving` while a member is in only one of the two rings. */
  phase(id: string): typeof MemberState.JOINING | typeof MemberState.LEAVING | undefined {
    const phase = this.current.phaseOf(id);
    return phase === Phase.JOINING || phase === Phase.LEAVING ? phase : undefined;
  }

  /**
   * Records a heartbeat: the member's silence ends and so does its probation.
   * @returns the current epoch
   * @throws {@link NotRegisteredError} if `id` is not a member
   */
  heartbeat(id: string): number {
    this.liveness.heartbeat(id);
    return this.epoch;
  }

  /**
   * Removes a member that leaves gracefully.
   * @throws {@link NotRegisteredError} if `id` is not a member
   */
  unregister(id: string): MembershipChange {
    const change = this.remove(ChangeKind.LEFT, id);
    this.liveness.forget(id);
    return change;
  }

  /**
   * Removes a member declared dead and remembers it for `LIST_NODES ALL`.
   * @throws {@link NotRegisteredError} if `id` is not a member
   */
  markDead(id: string): MembershipChange {
    const { member, epoch } = this.remove(ChangeKind.DIED, id);
    return { kind: ChangeKind.DIED, member, silentMs: this.liveness.bury(member), epoch };
  }

  /**
   * Does not count the last `ms` milliseconds against any member: each member's silence
   * shrinks by up to `ms` (never below zero). For time in which the coordinator itself did
   * not run, so heartbeats that arrived meanwhile are still unread.
   */
  excuse(ms: number): void {
    this.liveness.excuse(ms);
  }

  /** How long each member has been silent, in milliseconds. */
  silence(): { readonly id: string; readonly silentMs: number }[] {
    return this.liveness.silence();
  }

  /**
   * Members sorted by id (as UTF-8 bytes, like the ring), optionally followed in the same
   * order by the dead ones still remembered.
   */
  list(includeDead = false): MemberStatus[] {
    const statuses: MemberStatus[] = this.current.members().map((id) => {
      const state = this.phase(id) ?? this.liveness.stateOf(id) ?? MemberState.UP;
      return status(this.current.member(id) as Member, state, this.liveness.ageOf(id));
    });
    if (!includeDead || this.liveness.deadCount === 0) return statuses;
    const now = this.now();
    for (const { member, lastHeartbeat } of this.liveness.deadMembers()) {
      statuses.push(status(member, MemberState.DEAD, now - lastHeartbeat));
    }
    return statuses.sort((a, b) => Buffer.compare(Buffer.from(a.id), Buffer.from(b.id)));
  }

  /** Counts by state. */
  counts(): {
    members: number;
    up: number;
    probation: number;
    joining: number;
    leaving: number;
    deadRemembered: number;
  } {
    const counts = { probation: 0, joining: 0, leaving: 0 };
    for (const [id, { state }] of this.liveness.entries()) {
      const phase = this.phase(id);
      if (phase !== undefined) counts[phase]++;
      else if (state === MemberState.PROBATION) counts.probation++;
    }
    const members = this.liveness.size;
    return {
      members,
      up: members - counts.probation - counts.joining - counts.leaving,
      ...counts,
      deadRemembered: this.liveness.deadCount,
    };
  }

  /** The state to persist. */
  toState(): MembershipState {
    const { epoch, read, target, settled } = this.current;
    return { epoch, ring: read.toJSON(), ...(!settled && { target: target.toJSON() }) };
  }

  /** Moves to the next epoch with these rings; the change names member `id` as it is now. */
  private move<K extends ChangeKind>(
    kind: K,
    id: string,
    read: Ring,
    target: Ring,
  ): { kind: K; member: Member; epoch: number } {
    this.current = new RingEpoch(this.epoch + 1, read, target);
    return { kind, member: this.current.member(id) as Member, epoch: this.epoch };
  }

  /** Takes member `id` out of both rings, into the next epoch. */
  private remove<K extends ChangeKind>(
    kind: K,
    id: string,
  ): { kind: K; member: Member; epoch: number } {
    const member = this.current.member(id);
    if (member === undefined) throw new NotRegisteredError(id);
    const { read, target } = this.current;
    this.current = new RingEpoch(
      this.epoch + 1,
      read.has(id) ? read.remove(id) : read,
      target.has(id) ? target.remove(id) : target,
    );
    return { kind, member, epoch: this.epoch };
  }
}

function status(member: Member, state: MemberState, heartbeatAgeMs: number): MemberStatus {
  return { id: member.id, state, zone: member.zone, weight: member.weight, heartbeatAgeMs };
}
