import { Buffer } from 'node:buffer';
import {
  DuplicateMemberError,
  InvalidMemberIdError,
  InvalidHostError,
  InvalidWeightError,
  InvalidZoneError,
} from './errors';

/** Zone of a member that names none. */
export const DEFAULT_ZONE = '';

/**
 * Largest weight a cluster accepts for a node (the coordinator's `REGISTER_NODE`, kv-node's
 * `--weight`): a hundred times the capacity of the smallest node is past any real
 * hardware spread, and it keeps one member's virtual nodes (weight × V) bounded. A ring
 * built directly takes any finite weight > 0 within its virtual-node limit.
 */
export const MAX_WEIGHT = 100;

/** A member as given to a ring: a physical node and how much of the ring it should hold. */
export interface MemberInput {
  /** Unique id of the node, e.g. its advertised `host:port`. Non-empty. */
  readonly id: string;
  /**
   * Relative capacity: a member of weight 2 holds about twice the keys of one of weight 1.
   * A finite number greater than 0.
   * @default 1
   */
  readonly weight?: number;
  /**
   * Failure domain (rack, availability zone). Preference lists take members of distinct
   * zones first. Members without a zone share the default zone `""`.
   * @default ""
   */
  readonly zone?: string;
  /**
   * The machine the node runs on. Preference lists take members of distinct hosts next
   * after distinct zones, so two copies of a key share a machine only when there are fewer
   * machines than copies.
   * @default the id's host: the part before its last `:` when a port (digits) follows it,
   *   else the whole id (see {@link hostOfId})
   */
  readonly host?: string;
}

/** A member of a ring, with its defaults filled in. */
export interface Member {
  /** Unique id of the node. */
  readonly id: string;
  /** Relative capacity. */
  readonly weight: number;
  /** Failure domain; `""` is the default zone. */
  readonly zone: string;
  /**
   * The machine the node runs on, present only when it differs from {@link hostOfId}(id);
   * {@link hostOf} gives it either way.
   */
  readonly host?: string;
}

/**
 * The host named by a member id: the part before the last `:` when that `:` is followed by
 * one or more ASCII digits and preceded by something (`10.0.0.1:5001` → `10.0.0.1`,
 * `[::1]:5001` → `[::1]`), else the whole id.
 */
export function hostOfId(id: string): string {
  const colon = id.lastIndexOf(':');
  return colon > 0 && colon < id.length - 1 && /^[0-9]+$/.test(id.slice(colon + 1))
    ? id.slice(0, colon)
    : id;
}

/** The host a member runs on: the one it names, else the one its id names. */
export function hostOf(member: Member): string {
  return member.host ?? hostOfId(member.id);
}

// A lone surrogate would encode as U+FFFD, so two different ids could hash alike.
const LONE_SURROGATE = /\p{Cs}/u;

/** Validates one member (a bare string is an id with the defaults) and fills in defaults. */
export function toMember(input: string | MemberInput): Member {
  const fields: Partial<MemberInput> =
    typeof input === 'string'
      ? { id: input }
      : typeof input === 'object' && input !== null
        ? input
        : {};
  const { id, weight = 1, zone = DEFAULT_ZONE, host } = fields;
  if (typeof id !== 'string' || id.length === 0 || LONE_SURROGATE.test(id)) {
    throw new InvalidMemberIdError(typeof input === 'object' ? id : input);
  }
  if (typeof weight !== 'number' || !Number.isFinite(weight) || weight <= 0) {
    throw new InvalidWeightError(id, weight);
  }
  if (typeof zone !== 'string') throw new InvalidZoneError(id, zone);
  if (host !== undefined && (typeof host !== 'string' || host.length === 0)) {
    throw new InvalidHostError(id, host);
  }
  // A host equal to the id's own is the default: dropped, so equal rings serialise alike.
  return host === undefined || host === hostOfId(id)
    ? Object.freeze({ id, weight, zone })
    : Object.freeze({ id, weight, zone, host });
}

/**
 * Validates members, rejects duplicate ids and sorts them by id compared as UTF-8 bytes,
 * so the result does not depend on the order the members were given in.
 */
export function toMembers(inputs: Iterable<string | MemberInput>): readonly Member[] {
  const keyed = Array.from(inputs, (input) => {
    const member = toMember(input);
    return { member, bytes: Buffer.from(member.id, 'utf8') };
  });
  keyed.sort((a, b) => Buffer.compare(a.bytes, b.bytes));
  for (let i = 1; i < keyed.length; i++) {
    const id = keyed[i]?.member.id;
    if (id !== undefined && id === keyed[i - 1]?.member.id) throw new DuplicateMemberError(id);
  }
  return Object.freeze(keyed.map((k) => k.member));
}
