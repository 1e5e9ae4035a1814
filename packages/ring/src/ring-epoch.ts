import { InvalidCountError, InvalidEpochError } from './errors';
import { toMembers, type Member } from './member';
import type { Ring } from './ring';
import { token } from './token';

/** Where a node stands in a {@link RingEpoch} while placement moves. */
export const Phase = {
  /** In the read ring and in the target ring: it serves reads and takes writes. */
  SERVING: 'serving',
  /** In the target ring only: it takes writes and copies its ranges before it serves reads. */
  JOINING: 'joining',
  /** In the read ring only: it still serves reads while it hands its ranges on. */
  LEAVING: 'leaving',
  /** In neither ring (not registered yet, or removed). */
  OUTSIDE: 'outside',
} as const;

/** One of the {@link Phase} values. */
export type Phase = (typeof Phase)[keyof typeof Phase];

/** The replicas of a write while placement moves: see {@link RingEpoch.writeReplicas}. */
export interface WriteReplicas {
  /** The key's read preference list, then the target owners that are not in it. */
  readonly replicas: string[];
  /** How many of `replicas` are target owners outside the read list (nodes still joining). */
  readonly pending: number;
}

/**
 * A ring epoch: the numbered pair of rings a cluster places keys by. Reads are routed by the
 * **read** ring; the **target** ring is where placement is heading while a node joins or
 * leaves (the same ring otherwise). Writes go to both, so nothing a joining node should hold
 * is missed and nothing a leaving node hands on is lost.
 *
 * The **owners** of a key are the union of its preference lists in both rings: every node
 * that must hold it now. A node is {@link Phase.SERVING} in both rings,
 * {@link Phase.JOINING} in the target ring only, {@link Phase.LEAVING} in the read ring
 * only, and {@link Phase.OUTSIDE} in neither.
 *
 * An immutable value, pure like {@link Ring}: the coordinator publishes one per membership
 * change, and nodes and clients rebuild the same one from the rings it sends.
 *
 * @example
 * ```ts
 * const read = new Ring(['a:1', 'b:1', 'c:1']);
 * const epoch = new RingEpoch(7, read, read.add('d:1')); // d:1 joins
 * epoch.phaseOf('d:1');          // 'joining'
 * epoch.readReplicas('user:1');  // read.preferenceList('user:1'): d:1 serves no reads yet
 * epoch.writeReplicas('user:1'); // those three, then d:1 if it will own user:1 (pending: 1)
 * ```
 */
export class RingEpoch {
  /** The epoch number: how many membership changes produced this pair. */
  readonly epoch: number;
  /** The ring reads are routed by. */
  readonly read: Ring;
  /** The ring placement is heading to; the very {@link read} object when both hold the same. */
  readonly target: Ring;
  /** Copies of each key: an override given by the caller, else the read ring's. */
  readonly replicationFactor: number;
  private memberCache: readonly Member[] | undefined;

  /**
   * @param epoch - a non-negative integer
   * @param read - the ring reads are routed by
   * @param target - the ring writes also go to while a node joins or leaves
   * @defaultValue target: `read` (a settled epoch)
   * @param replicationFactor - copies of each key; an integer of at least 1
   * @defaultValue replicationFactor: the read ring's
   * @throws {@link InvalidEpochError}, {@link InvalidCountError}
   */
  constructor(
    epoch: number,
    read: Ring,
    target: Ring = read,
    replicationFactor: number = read.replicationFactor,
  ) {
    if (!Number.isSafeInteger(epoch) || epoch < 0) throw new InvalidEpochError(epoch);
    if (!Number.isInteger(replicationFactor) || replicationFactor < 1)
      throw new InvalidCountError(replicationFactor);
    this.epoch = epoch;
    this.read = read;
    // One object for equal rings, so "settled" is a reference check on every write.
    this.target = target === read || target.equals(read) ? read : target;
    this.replicationFactor = replicationFactor;
  }

  /** True when no node is joining or leaving: both rings are one. */
  get settled(): boolean {
    return this.read === this.target;
  }

  /** Ids of the members of either ring, sorted by id as UTF-8 bytes (the order of a ring). */
  members(): string[] {
    return this.memberList().map((m) => m.id);
  }

  /**
   * The member `id` with its zone and weight, or `undefined`. The target ring's entry wins:
   * it holds the member as last registered.
   */
  member(id: string): Member | undefined {
    return this.target.member(id) ?? this.read.member(id);
  }

  /** Where node `id` stands: in both rings, one of them, or neither. */
  phaseOf(id: string): Phase {
    const inRead = this.read.has(id);
    const inTarget = this.target.has(id);
    if (inRead && inTarget) return Phase.SERVING;
    if (inTarget) return Phase.JOINING;
    return inRead ? Phase.LEAVING : Phase.OUTSIDE;
  }

  /** The key's preference list in the read ring: where reads go. Empty for an empty ring. */
  readReplicas(key: string | Uint8Array): string[] {
    return this.readOwnersOfToken(token(key));
  }

  /**
   * Where a write of `key` goes: the read preference list, then the target owners not in
   * it. The `pending` ones are nodes still joining: they must get every write while they
   * copy, so a writer waits for them on top of its quorum.
   */
  writeReplicas(key: string | Uint8Array): WriteReplicas {
    return this.writeReplicasOfToken(token(key));
  }

  /** {@link RingEpoch.writeReplicas} of a key given its {@link token}. */
  writeReplicasOfToken(t: number): WriteReplicas {
    const replicas = this.readOwnersOfToken(t);
    if (this.settled) return { replicas, pending: 0 };
    const before = replicas.length;
    addMissing(replicas, this.targetOwnersOfToken(t));
    return { replicas, pending: replicas.length - before };
  }

  /** Every node that must hold `key` now: read preference list ∪ target preference list. */
  owners(key: string | Uint8Array): string[] {
    return this.ownersOfToken(token(key));
  }

  /** {@link RingEpoch.owners} of a key given its {@link token}. */
  ownersOfToken(t: number): string[] {
    const owners = this.readOwnersOfToken(t);
    if (!this.settled) addMissing(owners, this.targetOwnersOfToken(t));
    return owners;
  }

  /** The read-ring preference list of a key given its token; empty for an empty ring. */
  readOwnersOfToken(t: number): string[] {
    return this.read.size > 0 ? this.read.preferenceListForToken(t, this.replicationFactor) : [];
  }

  /** The target-ring preference list of a key given its token; empty for an empty ring. */
  targetOwnersOfToken(t: number): string[] {
    return this.target.size > 0
      ? this.target.preferenceListForToken(t, this.replicationFactor)
      : [];
  }

  /** Members of both rings, the target's entry for a member in both, sorted like a ring. */
  private memberList(): readonly Member[] {
    this.memberCache ??= this.settled
      ? this.read.members
      : toMembers([
          ...this.target.members,
          ...this.read.members.filter((m) => !this.target.has(m.id)),
        ]);
    return this.memberCache;
  }
}

/** Appends the ids of `more` that `list` lacks, in order. */
function addMissing(list: string[], more: readonly string[]): void {
  for (const id of more) if (!list.includes(id)) list.push(id);
}
