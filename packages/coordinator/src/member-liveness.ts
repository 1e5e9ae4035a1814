import type { Member } from '@kv/ring';
import { NotRegisteredError } from './errors';
import { MemberState } from './member-state';

interface Heartbeat {
  state: typeof MemberState.UP | typeof MemberState.PROBATION;
  lastHeartbeat: number;
}

/** A member declared dead, as `LIST_NODES ALL` still shows it. */
export interface DeadMember {
  readonly member: Member;
  readonly lastHeartbeat: number;
}

/**
 * When each member was last heard from, whether it is on probation (restored, not heard
 * from since), and the most recently dead. Knows nothing of rings: the membership decides
 * who is a member, this table only keeps time.
 */
export class MemberLiveness {
  private readonly heartbeats = new Map<string, Heartbeat>();
  /** Insertion-ordered: the first entry is the oldest death. */
  private readonly dead = new Map<string, DeadMember>();

  constructor(
    private readonly now: () => number,
    /** Most dead members remembered; the oldest are forgotten first. */
    private readonly maxDead: number,
  ) {}

  /** Members tracked. */
  get size(): number {
    return this.heartbeats.size;
  }

  /** Dead members remembered. */
  get deadCount(): number {
    return this.dead.size;
  }

  /** Whether `id` is a tracked member. */
  has(id: string): boolean {
    return this.heartbeats.has(id);
  }

  /** A member heard from now: up, its silence over, no longer remembered as dead. */
  heard(id: string): void {
    this.heartbeats.set(id, { state: MemberState.UP, lastHeartbeat: this.now() });
    this.dead.delete(id);
  }

  /** Forgets every member; the dead remembered stay remembered. */
  reset(): void {
    this.heartbeats.clear();
  }

  /** A member restored from saved state: on probation as if heard from now. */
  restored(id: string): void {
    this.heartbeats.set(id, { state: MemberState.PROBATION, lastHeartbeat: this.now() });
  }

  /**
   * A heartbeat from a tracked member.
   * @throws {@link NotRegisteredError} if `id` is not tracked
   */
  heartbeat(id: string): void {
    const heartbeat = this.heartbeats.get(id);
    if (heartbeat === undefined) throw new NotRegisteredError(id);
    heartbeat.state = MemberState.UP;
    heartbeat.lastHeartbeat = this.now();
  }

  /** `up` or `probation` for a tracked member. */
  stateOf(id: string): typeof MemberState.UP | typeof MemberState.PROBATION | undefined {
    return this.heartbeats.get(id)?.state;
  }

  /** Milliseconds since `id` was last heard from (0 for an untracked id). */
  ageOf(id: string): number {
    const heartbeat = this.heartbeats.get(id);
    return heartbeat === undefined ? 0 : this.now() - heartbeat.lastHeartbeat;
  }

  /** Stops tracking a member that left. */
  forget(id: string): void {
    this.heartbeats.delete(id);
  }

  /**
   * Stops tracking a member declared dead and remembers it, forgetting the oldest deaths
   * past the limit.
   * @returns how long the member had been silent
   */
  bury(member: Member): number {
    const now = this.now();
    const lastHeartbeat = this.heartbeats.get(member.id)?.lastHeartbeat ?? now;
    this.heartbeats.delete(member.id);
    this.dead.set(member.id, { member, lastHeartbeat });
    for (const oldest of this.dead.keys()) {
      if (this.dead.size <= this.maxDead) break;
      this.dead.delete(oldest);
    }
    return now - lastHeartbeat;
  }

  /** The dead members remembered, oldest death first. */
  deadMembers(): DeadMember[] {
    return [...this.dead.values()];
  }

  /** Each member's silence shrinks by up to `ms`, never below zero. */
  excuse(ms: number): void {
    const now = this.now();
    for (const heartbeat of this.heartbeats.values()) {
      heartbeat.lastHeartbeat = Math.min(now, heartbeat.lastHeartbeat + ms);
    }
  }

  /** How long each member has been silent, in milliseconds. */
  silence(): { readonly id: string; readonly silentMs: number }[] {
    const now = this.now();
    return Array.from(this.heartbeats, ([id, { lastHeartbeat }]) => ({
      id,
      silentMs: now - lastHeartbeat,
    }));
  }

  /** Tracked ids with their state. */
  entries(): IterableIterator<[string, { readonly state: Heartbeat['state'] }]> {
    return this.heartbeats.entries();
  }
}
