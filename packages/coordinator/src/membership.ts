import { Buffer } from 'node:buffer';
import { DEFAULT_ZONE, Ring, type Member, type RingJSON, type RingOptions } from '@kv/ring';
import { NotRegisteredError } from './errors';

/** Liveness of a node as the coordinator sees it. */
export const MemberState = {
  /**
   * Registered and taking writes for the ranges it will own while it copies them from
   * their current owners; reads still go to those owners. Becomes `up` on `NODE_READY`.
   */
  JOINING: 'joining',
  /** In the ring and heartbeating. */
  UP: 'up',
  /** In the ring, restored from the state file, no heartbeat since the coordinator restarted. */
  PROBATION: 'probation',
  /**
   * Still serving reads while it hands its ranges to their next owners; writes already go
   * to those owners. Removed on `UNREGISTER_NODE`.
   */
  LEAVING: 'leaving',
  /** Removed from the ring after the failure timeout; remembered for `LIST_NODES ALL` only. */
  DEAD: 'dead',
} as const;

/** One of the {@link MemberState} values. */
export type MemberState = (typeof MemberState)[keyof typeof MemberState];

/** A node as `LIST_NODES` reports it. */
export interface MemberStatus {
  /** `host:port` as registered. */
  readonly id: string;
  /** Liveness. */
  readonly state: MemberState;
  /** Failure domain; `""` when the node named none. */
  readonly zone: string;
  /** Relative capacity. */
  readonly weight: number;
  /**
   * Milliseconds since the last heartbeat or registration. For a member restored from the
   * state file that has not heartbeated yet, since the restore.
   */
  readonly heartbeatAgeMs: number;
}

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
   * Relative capacity, a finite number greater than 0.
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

interface Liveness {
  state: typeof MemberState.UP | typeof MemberState.PROBATION;
  lastHeartbeat: number;
}

interface DeadMember {
  readonly member: Member;
  readonly lastHeartbeat: number;
}

/** Default of {@link MembershipOptions.maxDeadRemembered}. */
export const MAX_DEAD_REMEMBERED = 100;

const monotonicNow = (): number => performance.now();

/**
 * The cluster's membership: the ring of live members, its epoch, when each member was last
 * heard from, and the most recently dead. Pure bookkeeping with an injected clock: no
 * sockets, no timers, no files. Every change of ring membership bumps the epoch by 1 and is
 * returned as a {@link MembershipChange} so the caller can log and persist it.
 */
export class Membership {
  /** The ring reads are routed by: `up`, `probation` and `leaving` members. */
  private ringValue: Ring;
  /** The ring placement is heading to: `up`, `probation` and `joining` members. */
  private targetValue: Ring;
  private epochValue: number;
  /** The clock heartbeat times are read from. */
  readonly now: () => number;
  private readonly maxDead: number;
  private readonly liveness = new Map<string, Liveness>();
  /** Insertion-ordered: the first entry is the oldest death. */
  private readonly dead = new Map<string, DeadMember>();

  /** An empty membership at epoch 0. */
  constructor(options: MembershipOptions = {}) {
    this.ringValue = new Ring([], options.ring);
    this.targetValue = this.ringValue;
    this.epochValue = 0;
    this.now = options.now ?? monotonicNow;
    this.maxDead = options.maxDeadRemembered ?? MAX_DEAD_REMEMBERED;
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
    membership.ringValue = Ring.fromJSON(state.ring);
    membership.setRings(
      membership.ringValue,
      state.target ? Ring.fromJSON(state.target) : membership.ringValue,
    );
    membership.epochValue = state.epoch;
    const now = membership.now();
    for (const { id } of membership.allMembers()) {
      membership.liveness.set(id, { state: MemberState.PROBATION, lastHeartbeat: now });
    }
    return membership;
  }

  /** The ring epoch: how many membership changes there have been. */
  get epoch(): number {
    return this.epochValue;
  }

  /** The ring reads are routed by (an immutable value). */
  get ring(): Ring {
    return this.ringValue;
  }

  /**
   * The ring writes are placed by: the read ring with joining members added and leaving
   * ones removed. The same object as {@link ring} when no node is joining or leaving.
   */
  get target(): Ring {
    return this.targetValue;
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
    const current = this.targetValue.member(id) ?? this.ringValue.member(id);
    let change: MembershipChange | undefined;
    if (current === undefined) {
      const member = { id, zone, weight };
      // A node that copies its data first joins the target ring only; the first node has
      // nobody to copy from, and one that does not stream serves at once.
      if (joining && this.ringValue.size > 0) {
        this.setRings(this.ringValue, this.targetValue.add(member));
        change = { kind: ChangeKind.JOINING, member: this.memberOf(id), epoch: ++this.epochValue };
      } else {
        const ring = this.ringValue.add(member);
        this.setRings(
          ring,
          this.targetValue === this.ringValue ? ring : this.targetValue.add(member),
        );
        change = { kind: ChangeKind.JOINED, member: this.memberOf(id), epoch: ++this.epochValue };
      }
      this.dead.delete(id);
    } else if (current.zone !== zone || current.weight !== weight) {
      const update = (ring: Ring): Ring =>
        !ring.has(id)
          ? ring
          : current.zone === zone
            ? ring.reweight(id, weight)
            : ring.remove(id).add({ id, zone, weight });
      this.setRings(update(this.ringValue), update(this.targetValue));
      change = {
        kind: ChangeKind.UPDATED,
        member: this.memberOf(id),
        previous: current,
        epoch: ++this.epochValue,
      };
    } else if (
      joining &&
      this.ringValue.has(id) &&
      this.targetValue.has(id) &&
      this.ringValue.size > 1
    ) {
      // A member restarted empty: it must not serve reads before it has its data back.
      this.setRings(this.ringValue.remove(id), this.targetValue);
      change = { kind: ChangeKind.JOINING, member: this.memberOf(id), epoch: ++this.epochValue };
    }
    this.liveness.set(id, { state: MemberState.UP, lastHeartbeat: this.now() });
    return { id, epoch: this.epochValue, change };
  }

  /**
   * A joining member has its data: it enters the ring that serves reads. Idempotent.
   * @returns the change, or undefined when the member was not joining
   * @throws {@link NotRegisteredError} if `id` is not a member
   */
  ready(id: string): MembershipChange | undefined {
    const member = this.targetValue.member(id);
    if (member === undefined || !this.liveness.has(id)) throw new NotRegisteredError(id);
    if (this.ringValue.has(id)) return undefined;
    this.setRings(this.ringValue.add(member), this.targetValue);
    return { kind: ChangeKind.JOINED, member, epoch: ++this.epochValue };
  }

  /**
   * A member is about to leave: it leaves the target ring (writes go to the next owners)
   * and keeps serving reads while it hands off its data. Idempotent. A member still
   * joining has nothing to hand off and is removed at once.
   * @throws {@link NotRegisteredError} if `id` is not a member
   */
  leave(id: string): MembershipChange | undefined {
    if (!this.liveness.has(id)) throw new NotRegisteredError(id);
    if (!this.ringValue.has(id)) return this.unregister(id);
    const member = this.memberOf(id);
    if (!this.targetValue.has(id)) return undefined;
    this.setRings(this.ringValue, this.targetValue.remove(id));
    return { kind: ChangeKind.LEAVING, member, epoch: ++this.epochValue };
  }

  /** `joining` or `leaving` while a member is in only one of the two rings. */
  phase(id: string): typeof MemberState.JOINING | typeof MemberState.LEAVING | undefined {
    const inRing = this.ringValue.has(id);
    const inTarget = this.targetValue.has(id);
    if (inTarget && !inRing) return MemberState.JOINING;
    if (inRing && !inTarget) return MemberState.LEAVING;
    return undefined;
  }

  /**
   * Records a heartbeat: the member's silence ends and so does its probation.
   * @returns the current epoch
   * @throws {@link NotRegisteredError} if `id` is not a member
   */
  heartbeat(id: string): number {
    const liveness = this.liveness.get(id);
    if (liveness === undefined) throw new NotRegisteredError(id);
    liveness.state = MemberState.UP;
    liveness.lastHeartbeat = this.now();
    return this.epochValue;
  }

  /**
   * Removes a member that leaves gracefully.
   * @throws {@link NotRegisteredError} if `id` is not a member
   */
  unregister(id: string): MembershipChange {
    const member = this.removeMember(id);
    return { kind: ChangeKind.LEFT, member, epoch: this.epochValue };
  }

  /**
   * Removes a member declared dead and remembers it for `LIST_NODES ALL`.
   * @throws {@link NotRegisteredError} if `id` is not a member
   */
  markDead(id: string): MembershipChange {
    const lastHeartbeat = this.liveness.get(id)?.lastHeartbeat ?? this.now();
    const member = this.removeMember(id);
    this.dead.set(id, { member, lastHeartbeat });
    for (const oldest of this.dead.keys()) {
      if (this.dead.size <= this.maxDead) break;
      this.dead.delete(oldest);
    }
    return {
      kind: ChangeKind.DIED,
      member,
      silentMs: this.now() - lastHeartbeat,
      epoch: this.epochValue,
    };
  }

  /**
   * Does not count the last `ms` milliseconds against any member: each member's silence
   * shrinks by up to `ms` (never below zero). For time in which the coordinator itself did
   * not run, so heartbeats that arrived meanwhile are still unread.
   */
  excuse(ms: number): void {
    const now = this.now();
    for (const liveness of this.liveness.values()) {
      liveness.lastHeartbeat = Math.min(now, liveness.lastHeartbeat + ms);
    }
  }

  /** How long each member has been silent, in milliseconds. */
  silence(): { readonly id: string; readonly silentMs: number }[] {
    const now = this.now();
    return Array.from(this.liveness, ([id, { lastHeartbeat }]) => ({
      id,
      silentMs: now - lastHeartbeat,
    }));
  }

  /**
   * Members sorted by id (as UTF-8 bytes, like the ring), optionally followed in the same
   * order by the dead ones still remembered.
   */
  list(includeDead = false): MemberStatus[] {
    const now = this.now();
    const statuses: MemberStatus[] = this.allMembers().map((member) => {
      const liveness = this.liveness.get(member.id) as Liveness;
      const state = this.phase(member.id) ?? liveness.state;
      return status(member, state, now - liveness.lastHeartbeat);
    });
    if (!includeDead || this.dead.size === 0) return statuses;
    for (const { member, lastHeartbeat } of this.dead.values()) {
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
    for (const [id, { state }] of this.liveness) {
      const phase = this.phase(id);
      if (phase !== undefined) counts[phase]++;
      else if (state === MemberState.PROBATION) counts.probation++;
    }
    return {
      members: this.liveness.size,
      up: this.liveness.size - counts.probation - counts.joining - counts.leaving,
      ...counts,
      deadRemembered: this.dead.size,
    };
  }

  /** The state to persist. */
  toState(): MembershipState {
    return {
      epoch: this.epochValue,
      ring: this.ringValue.toJSON(),
      ...(this.targetValue !== this.ringValue && { target: this.targetValue.toJSON() }),
    };
  }

  /** Members of either ring, sorted by id. */
  private allMembers(): Member[] {
    const leaving = this.ringValue.members.filter((m) => !this.targetValue.has(m.id));
    if (leaving.length === 0) return [...this.targetValue.members];
    return [...this.targetValue.members, ...leaving].sort((a, b) =>
      Buffer.compare(Buffer.from(a.id), Buffer.from(b.id)),
    );
  }

  /** Sets both rings; the target is the read ring itself when they hold the same members. */
  private setRings(ring: Ring, target: Ring): void {
    this.ringValue = ring;
    this.targetValue = target.equals(ring) ? ring : target;
  }

  private removeMember(id: string): Member {
    const member = this.targetValue.member(id) ?? this.ringValue.member(id);
    if (member === undefined) throw new NotRegisteredError(id);
    this.setRings(
      this.ringValue.has(id) ? this.ringValue.remove(id) : this.ringValue,
      this.targetValue.has(id) ? this.targetValue.remove(id) : this.targetValue,
    );
    this.liveness.delete(id);
    this.epochValue++;
    return member;
  }

  private memberOf(id: string): Member {
    return (this.targetValue.member(id) ?? this.ringValue.member(id)) as Member;
  }
}

function status(member: Member, state: MemberState, heartbeatAgeMs: number): MemberStatus {
  return { id: member.id, state, zone: member.zone, weight: member.weight, heartbeatAgeMs };
}
