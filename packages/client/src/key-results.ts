/**
 * What the client answers about a key: its value with the node that served it, and where
 * it lives.
 */

/** A value and where it came from. */
export interface Entry {
  /** The value, or null when the key does not exist. */
  readonly value: Buffer | null;
  /** The node (`host:port`) that answered. */
  readonly node: string;
  /** The key's primary node. */
  readonly primary: string;
  /** True when a node other than the primary answered (the primary failed). */
  readonly fromReplica: boolean;
}

/** Where a key lives: its preference list in the ring reads are routed by. */
export interface KeyPlacement {
  readonly primary: string;
  /** The other nodes holding copies, in preference order. */
  readonly replicas: string[];
}

/** @deprecated the earlier name of {@link KeyPlacement}. */
export type Placement = KeyPlacement;
