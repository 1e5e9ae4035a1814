import { Buffer } from 'node:buffer';
import { DEFAULT_ZONE, Ring, type Member, type RingJSON, type RingOptions } from '@kv/ring';
import { NotRegisteredError } from './errors';

/** Liveness of a node as the coordinator sees it. */
export const MemberState = {
  /** In the ring and heartbeating. */
  UP: 'up',
  /** In the ring, restored from the state file, no heartbeat since the coordinator restarted. */
  PROBATION: 'probation',
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
  /** A node registered and was added to the ring. */
  JOINED: 'joined',
  /** A member registered again with a different zone or weight. */
  UPDATED: 'updated',
  /** A member sent UNREGISTER_NODE. */
  LEFT: 'left',
  /** A member was silent for the failure timeout. */
  DIED: 'died',
} as const;

/** One of the {@link ChangeKind} values. */
export type ChangeKind = (typeof ChangeKind)[keyof typeof ChangeKind];

/** A change of ring membership, with the epoch it produced. */
export type MembershipChange =
  | { readonly kind: 'joined'; readonly member: Member; readonly epoch: number }
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

/** What persists across coordinator restarts: the epoch and the ring (options and members). */
export interface MembershipState {
  /** The ring epoch. */
  readonly epoch: number;
  /** The serialised ring. */
  readonly ring: RingJSON;
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
  private ringValue: Ring;
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
    membership.epochValue = state.epoch;
    const now = membership.now();
    for (const { id } of membership.ringValue.members) {
      membership.liveness.set(id, { state: MemberState.PROBATION, lastHeartbeat: now });
    }
    return membership;
  }

  /** The ring epoch: how many membership changes there have been. */
  get epoch(): number {
    return this.epochValue;
  }

  /** The current ring (an immutable value). */
  get ring(): Ring {
    return this.ringValue;
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
    const { zone = DEFAULT_ZONE, weight = 1 } = options;
    const current = this.ringValue.member(id);
    let change: MembershipChange | undefined;
    if (current === undefined) {
      this.ringValue = this.ringValue.add({ id, zone, weight });
      this.dead.delete(id);
      change = { kind: ChangeKind.JOINED, member: this.memberOf(id), epoch: ++this.epochValue };
    } else if (current.zone !== zone || current.weight !== weight) {
      this.ringValue =
        current.zone === zone
          ? this.ringValue.reweight(id, weight)
          : this.ringValue.remove(id).add({ id, zone, weight });
      change = {
        kind: ChangeKind.UPDATED,
        member: this.memberOf(id),
        previous: current,
        epoch: ++this.epochValue,
      };
    }
    this.liveness.set(id, { state: MemberState.UP, lastHeartbeat: this.now() });
    return { id, epoch: this.epochValue, change };
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
    const statuses: MemberStatus[] = this.ringValue.members.map((member) => {
      const liveness = this.liveness.get(member.id) as Liveness;
      return status(member, liveness.state, now - liveness.lastHeartbeat);
    });
    if (!includeDead || this.dead.size === 0) return statuses;
    for (const { member, lastHeartbeat } of this.dead.values()) {
      statuses.push(status(member, MemberState.DEAD, now - lastHeartbeat));
    }
    return statuses.sort((a, b) => Buffer.compare(Buffer.from(a.id), Buffer.from(b.id)));
  }

  /** Counts by state. */
  counts(): { members: number; up: number; probation: number; deadRemembered: number } {
    let probation = 0;
    for (const { state } of this.liveness.values()) {
      if (state === MemberState.PROBATION) probation++;
    }
    return {
      members: this.liveness.size,
      up: this.liveness.size - probation,
      probation,
      deadRemembered: this.dead.size,
    };
  }

  /** The state to persist. */
  toState(): MembershipState {
    return { epoch: this.epochValue, ring: this.ringValue.toJSON() };
  }

  private removeMember(id: string): Member {
    const member = this.ringValue.member(id);
    if (member === undefined) throw new NotRegisteredError(id);
    this.ringValue = this.ringValue.remove(id);
    this.liveness.delete(id);
    this.epochValue++;
    return member;
  }

  private memberOf(id: string): Member {
    return this.ringValue.member(id) as Member;
  }
}

function status(member: Member, state: MemberState, heartbeatAgeMs: number): MemberStatus {
  return { id: member.id, state, zone: member.zone, weight: member.weight, heartbeatAgeMs };
}
