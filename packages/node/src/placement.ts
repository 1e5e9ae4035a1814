import type { Ring } from '@kv/ring';

/** Where a node stands while placement moves. */
export const Phase = {
  /** In the ring that serves reads and in the target ring. */
  SERVING: 'serving',
  /** In the target ring only: copying its ranges before it serves reads. */
  JOINING: 'joining',
  /** In the ring that serves reads only: handing its ranges to their next owners. */
  LEAVING: 'leaving',
  /** In neither (not registered yet, or removed). */
  OUTSIDE: 'outside',
} as const;

/** One of the {@link Phase} values. */
export type Phase = (typeof Phase)[keyof typeof Phase];

/** The replicas of a write while placement moves. */
export interface WriteReplicas {
  /** The key's preference list in the read ring, then target owners not in it. */
  readonly replicas: string[];
  /** How many of `replicas` are target owners outside the read ring (joining nodes). */
  readonly pending: number;
}

/**
 * A ring epoch as a node sees it: the ring reads are routed by, and the target ring writes
 * also go to while a node joins or leaves (the same ring otherwise). A key's **owners** are
 * the union of its preference lists in both: every node that must hold it now.
 */
export class Placement {
  constructor(
    readonly epoch: number,
    readonly read: Ring,
    readonly target: Ring,
    /** Copies per key: the node's override, else the ring's replication factor. */
    readonly replicationFactor: number = read.replicationFactor,
  ) {}

  /** True when no node is joining or leaving. */
  get settled(): boolean {
    return this.read === this.target;
  }

  /** Every member of either ring. */
  members(): string[] {
    const ids = new Set(this.read.members.map((m) => m.id));
    for (const m of this.target.members) ids.add(m.id);
    return [...ids];
  }

  /** Where node `id` stands. */
  phaseOf(id: string): Phase {
    const inRead = this.read.has(id);
    const inTarget = this.target.has(id);
    if (inRead && inTarget) return Phase.SERVING;
    if (inTarget) return Phase.JOINING;
    return inRead ? Phase.LEAVING : Phase.OUTSIDE;
  }

  /** The preference list reads use. */
  readReplicas(key: Buffer): string[] {
    return this.read.preferenceList(key, this.replicationFactor);
  }

  /** Where a write goes: the read owners, plus target owners that are still joining. */
  writeReplicas(key: Buffer): WriteReplicas {
    const replicas = this.readReplicas(key);
    if (this.settled) return { replicas, pending: 0 };
    let pending = 0;
    for (const id of this.target.preferenceList(key, this.replicationFactor)) {
      if (!replicas.includes(id)) {
        replicas.push(id);
        pending++;
      }
    }
    return { replicas, pending };
  }

  /** The owners of a key given its token: read preference list ∪ target preference list. */
  ownersOfToken(t: number): string[] {
    const owners =
      this.read.size > 0 ? this.read.preferenceListForToken(t, this.replicationFactor) : [];
    if (this.settled || this.target.size === 0) return owners;
    for (const id of this.target.preferenceListForToken(t, this.replicationFactor))
      if (!owners.includes(id)) owners.push(id);
    return owners;
  }

  /** The target-ring owners of a key given its token. */
  targetOwnersOfToken(t: number): string[] {
    return this.target.size > 0
      ? this.target.preferenceListForToken(t, this.replicationFactor)
      : [];
  }

  /** The read-ring owners of a key given its token. */
  readOwnersOfToken(t: number): string[] {
    return this.read.size > 0 ? this.read.preferenceListForToken(t, this.replicationFactor) : [];
  }
}
