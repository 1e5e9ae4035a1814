import {
  EmptyRingError,
  InvalidCountError,
  InvalidRingJsonError,
  RingTooLargeError,
  UnknownMemberError,
} from './errors';
import { vnodeCount } from './layout';
import { toMember, toMembers, type Member, type MemberInput } from './member';
import { MAX_VNODES, resolveOptions, type ResolvedRingOptions, type RingOptions } from './options';
import { ownershipOf, type Ownership } from './ownership';
import { VnodeTable } from './vnode-table';
import { ownedRanges, type OwnedRange } from './ranges';
import { token } from './token';

/** The serialised form of a ring: its options and members, members sorted by id. */
export interface RingJSON {
  /** Virtual nodes per unit of weight. */
  readonly vnodesPerWeight: number;
  /** Replicas of each key. */
  readonly replicationFactor: number;
  /** Members sorted by id as UTF-8 bytes. */
  readonly members: readonly Member[];
}

/**
 * A consistent-hashing ring: members with weights and zones placed on a 48-bit token space
 * through SHA-256 virtual nodes (see docs/ring.md for the exact algorithm).
 *
 * A ring is an immutable value. `add`, `remove` and `reweight` return a new ring, so
 * readers never see a half-changed ring and `diff` can compare any two. Two rings
 * built from the same members and options, in any order, place every key alike and
 * serialise to the same JSON.
 *
 * @example
 * ```ts
 * const ring = new Ring(['10.0.0.1:5001', '10.0.0.2:5001', '10.0.0.3:5001']);
 * ring.primary('user:1');        // '10.0.0.1:5001'
 * ring.preferenceList('user:1'); // ['10.0.0.1:5001', '10.0.0.3:5001', '10.0.0.2:5001']
 * ```
 */
export class Ring {
  /** Members sorted by id as UTF-8 bytes, defaults filled in. */
  readonly members: readonly Member[];
  /** Options with defaults filled in. */
  readonly options: ResolvedRingOptions;
  /** @internal Precomputed lookup tables; not part of the API. */
  readonly vnodes: VnodeTable;
  private readonly byId: ReadonlyMap<string, Member>;
  private ownershipCache: readonly Ownership[] | undefined;

  /**
   * Builds a ring.
   *
   * @param members - members, or bare ids for members of weight 1 in the default zone;
   *   any order
   * @param options - virtual nodes per unit of weight and replication factor
   * @param basis - a ring to derive this one from, as {@link Ring.withMembers} does; the
   *   result is the same without it, only slower to build
   * @throws {@link InvalidMemberIdError}, {@link InvalidWeightError}, {@link InvalidZoneError},
   *   {@link InvalidHostError},
   *   {@link DuplicateMemberError}, {@link InvalidOptionsError}, {@link RingTooLargeError}
   */
  constructor(
    members: Iterable<string | MemberInput> = [],
    options: RingOptions = {},
    basis?: Ring,
  ) {
    this.options = resolveOptions(options);
    this.members = toMembers(members);
    const vnodes = this.members.reduce(
      (sum, m) => sum + vnodeCount(m.weight, this.options.vnodesPerWeight),
      0,
    );
    if (vnodes > MAX_VNODES) throw new RingTooLargeError(vnodes, MAX_VNODES);
    this.byId = new Map(this.members.map((m) => [m.id, m]));
    const { vnodesPerWeight, replicationFactor } = this.options;
    this.vnodes =
      basis !== undefined && basis.options.vnodesPerWeight === vnodesPerWeight
        ? basis.vnodes.derive(this.members, vnodesPerWeight, replicationFactor)
        : VnodeTable.build(this.members, vnodesPerWeight, replicationFactor);
  }

  /**
   * Rebuilds a ring from {@link Ring.toJSON} output (or the same shape parsed from JSON).
   * Missing options take their defaults. Given the ring the caller held before (`basis`),
   * the new one is derived from it as {@link Ring.withMembers} does: only what changed is
   * computed again.
   *
   * @throws {@link InvalidRingJsonError} if `json` is not an object with a `members` array,
   *   and whatever the constructor throws for bad members or options
   */
  static fromJSON(json: unknown, basis?: Ring): Ring {
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      throw new InvalidRingJsonError('expected an object');
    }
    const { members, vnodesPerWeight, replicationFactor } = json as Record<string, unknown>;
    if (!Array.isArray(members)) throw new InvalidRingJsonError('"members" must be an array');
    const options: { vnodesPerWeight?: number; replicationFactor?: number } = {};
    if (vnodesPerWeight !== undefined) options.vnodesPerWeight = vnodesPerWeight as number;
    if (replicationFactor !== undefined) options.replicationFactor = replicationFactor as number;
    return new Ring(members as MemberInput[], options, basis);
  }

  /** Number of members. */
  get size(): number {
    return this.members.length;
  }

  /** Number of virtual nodes on the ring. */
  get vnodeCount(): number {
    return this.vnodes.size;
  }

  /** Replicas of each key; the default length of a preference list. */
  get replicationFactor(): number {
    return this.options.replicationFactor;
  }

  /** Whether a member with this id is in the ring. */
  has(id: string): boolean {
    return this.byId.has(id);
  }

  /** The member with this id, or `undefined`. */
  member(id: string): Member | undefined {
    return this.byId.get(id);
  }

  /**
   * A new ring with one more member.
   * @throws {@link DuplicateMemberError} if the id is taken, or an error for a bad member
   */
  add(member: string | MemberInput): Ring {
    return new Ring([...this.members, toMember(member)], this.options, this);
  }

  /**
   * A new ring without the member `id`.
   * @throws {@link UnknownMemberError} if the ring has no such member
   */
  remove(id: string): Ring {
    if (!this.byId.has(id)) throw new UnknownMemberError(id);
    return new Ring(
      this.members.filter((m) => m.id !== id),
      this.options,
      this,
    );
  }

  /**
   * A new ring in which member `id` has a new weight.
   * @throws {@link UnknownMemberError} if the ring has no such member,
   *   {@link InvalidWeightError} for a bad weight
   */
  reweight(id: string, weight: number): Ring {
    if (!this.byId.has(id)) throw new UnknownMemberError(id);
    return new Ring(
      this.members.map((m) => (m.id === id ? { ...m, weight } : m)),
      this.options,
      this,
    );
  }

  /**
   * A ring with exactly `members` and this ring's options, derived from this one: the
   * vnodes of members that joined, left or changed weight, zone or host are placed or taken
   * out, every other member's are kept as they are, and only the preference lists near a
   * change are computed again. The result equals `new Ring(members, ring.options)`; it costs
   * about the share of the ring that changed, plus a copy of the arrays.
   *
   * @throws whatever the constructor throws for bad members
   */
  withMembers(members: Iterable<string | MemberInput>): Ring {
    return new Ring(members, this.options, this);
  }

  /**
   * The member that owns `key`: the owner of the first virtual node clockwise from
   * `token(key)`.
   * @throws {@link EmptyRingError} if the ring has no members
   */
  primary(key: string | Uint8Array): string {
    const vnodes = this.vnodes;
    if (vnodes.size === 0) throw new EmptyRingError();
    return vnodes.ownerId(vnodes.locate(token(key)));
  }

  /**
   * The `n` distinct members that hold `key`, primary first: walking clockwise from
   * `token(key)`, members of zones not yet represented first, then the others in walk
   * order. If the ring has fewer than `n` members, all of them are returned (no error), so
   * the list may be shorter than `n`. For `n` up to the replication factor this is a
   * table lookup; past it, a walk of the ring.
   *
   * @param n - how many members; an integer of at least 1
   * @defaultValue the replication factor
   * @throws {@link InvalidCountError} if `n` is not an integer of at least 1,
   *   {@link EmptyRingError} if the ring has no members
   */
  preferenceList(key: string | Uint8Array, n: number = this.options.replicationFactor): string[] {
    checkCount(n);
    const vnodes = this.vnodes;
    if (vnodes.size === 0) throw new EmptyRingError();
    return vnodes.list(vnodes.locate(token(key)), n);
  }

  /**
   * {@link Ring.preferenceList} for a key whose token is already known: for callers that
   * place one key on several rings, or keep tokens, and so hash each key once.
   *
   * @param t - the key's {@link token}, an integer in [0, 2^48)
   * @param n - how many members; an integer of at least 1
   * @throws {@link InvalidCountError}, {@link EmptyRingError}
   */
  preferenceListForToken(t: number, n: number = this.options.replicationFactor): string[] {
    checkCount(n);
    const vnodes = this.vnodes;
    if (vnodes.size === 0) throw new EmptyRingError();
    return vnodes.list(vnodes.locate(t), n);
  }

  /**
   * The members that follow the first `n` of `key`'s preference order: where to send a
   * write (hinted handoff) or read when members of the preference list are down. In order
   * of preference; empty when the ring has at most `n` members.
   *
   * @param n - length of the preference list the fallbacks follow; an integer of at least 1
   * @defaultValue the replication factor
   * @throws {@link InvalidCountError}, {@link EmptyRingError}
   */
  fallbacks(key: string | Uint8Array, n: number = this.options.replicationFactor): string[] {
    checkCount(n);
    const vnodes = this.vnodes;
    if (vnodes.size === 0) throw new EmptyRingError();
    if (n >= this.members.length) return [];
    return vnodes.list(vnodes.locate(token(key)), this.members.length).slice(n);
  }

  /**
   * Share of the token space each member owns as primary and as a holder of any of the
   * first replication-factor copies, in member order. Primary shares sum to 1; replica
   * shares sum to min(replication factor, members). Empty for an empty ring.
   */
  ownership(): readonly Ownership[] {
    this.ownershipCache ??= Object.freeze(ownershipOf(this.vnodes, this.members));
    return this.ownershipCache;
  }

  /**
   * The token space as ranges with their preference lists (replication factor long),
   * ascending and covering `[0, 2^48)`; adjacent ranges with the same list are merged.
   * What a member holds is every range whose `owners` include it. Empty for an empty ring.
   * Computed on each call, in O(vnodes × replication factor).
   */
  ranges(): readonly OwnedRange[] {
    return Object.freeze(ownedRanges(this.vnodes));
  }

  /** The ring's options and members, sorted by id; `Ring.fromJSON` rebuilds the same ring. */
  toJSON(): RingJSON {
    return {
      vnodesPerWeight: this.options.vnodesPerWeight,
      replicationFactor: this.options.replicationFactor,
      members: this.members.map((m) =>
        m.host === undefined
          ? { id: m.id, weight: m.weight, zone: m.zone }
          : { id: m.id, weight: m.weight, zone: m.zone, host: m.host },
      ),
    };
  }

  /** Whether `other` has the same options and members (and so places every key alike). */
  equals(other: Ring): boolean {
    return (
      this.options.vnodesPerWeight === other.options.vnodesPerWeight &&
      this.options.replicationFactor === other.options.replicationFactor &&
      this.members.length === other.members.length &&
      this.members.every((m, i) => {
        const o = other.members[i];
        return (
          o !== undefined &&
          m.id === o.id &&
          m.weight === o.weight &&
          m.zone === o.zone &&
          m.host === o.host
        );
      })
    );
  }
}

function checkCount(n: number): void {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) throw new InvalidCountError(n);
}
