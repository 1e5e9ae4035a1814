import type { MembershipState } from './membership';

/**
 * Where a coordinator keeps the membership: the state file of a single coordinator
 * ({@link StateStore}) or etcd, shared by several ({@link EtcdStore}).
 */
export interface MembershipStore {
  /** Where the state lives, for logs and INFO: a file path or an `etcd://` address. */
  readonly location: string;
  /**
   * Reads the saved state.
   * @returns the state, or `undefined` when none was saved yet
   */
  load(): Promise<MembershipState | undefined>;
  /**
   * Saves `state`, replacing the saved one; resolves once it is durable. Saves never
   * overlap and land in the order they were asked for.
   */
  save(state: MembershipState): Promise<void>;
}
