import { Phase } from '@kv/ring';

/**
 * Liveness of a node as the coordinator sees it. `joining` and `leaving` are the
 * {@link Phase} of the node in the current ring epoch; `up` and `probation` tell apart the
 * serving nodes that have heartbeated since the coordinator started and those that have
 * not; `dead` ones are out of both rings.
 */
export const MemberState = {
  /**
   * Registered and taking writes for the ranges it will own while it copies them from
   * their current owners; reads still go to those owners. Becomes `up` on `NODE_READY`.
   */
  JOINING: Phase.JOINING,
  /** In the ring and heartbeating. */
  UP: 'up',
  /** In the ring, restored from the state file, no heartbeat since the coordinator restarted. */
  PROBATION: 'probation',
  /**
   * Still serving reads while it hands its ranges to their next owners; writes already go
   * to those owners. Removed on `UNREGISTER_NODE`.
   */
  LEAVING: Phase.LEAVING,
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
