/**
 * @packageDocumentation
 * Consistent hashing for kv: SHA-256 tokens, weighted virtual nodes, zones, preference
 * lists, ownership and ring diffs. Pure computation, no I/O, no runtime dependencies.
 * The algorithm is specified byte for byte in docs/ring.md so that other languages can
 * place keys exactly as this package does.
 *
 * @example
 * ```ts
 * import { Ring } from '@kv/ring';
 *
 * const ring = new Ring([
 *   { id: '10.0.0.1:5001', zone: 'a' },
 *   { id: '10.0.0.2:5001', zone: 'b' },
 *   { id: '10.0.0.3:5001', zone: 'a', weight: 2 },
 * ]);
 * ring.preferenceList('user:1'); // ['10.0.0.1:5001', '10.0.0.2:5001', '10.0.0.3:5001']: zones a, b first
 * ```
 *
 * While a node joins or leaves, a cluster places keys by two rings at once; a
 * {@link RingEpoch} holds that pair and answers where reads and writes go and where each
 * node stands ({@link Phase}).
 *
 * @example
 * ```ts
 * import { Ring, RingEpoch } from '@kv/ring';
 *
 * const read = new Ring(['10.0.0.1:5001', '10.0.0.2:5001', '10.0.0.3:5001']);
 * const epoch = new RingEpoch(4, read, read.add('10.0.0.4:5001'));
 * epoch.phaseOf('10.0.0.4:5001'); // 'joining'
 * epoch.writeReplicas('user:1'); // the read replicas, then the joining node if it owns user:1
 * ```
 */
export { Ring, type RingJSON } from './ring';
export { RingEpoch, Phase, type WriteReplicas } from './ring-epoch';
export {
  encodeRingReply,
  decodeRingReply,
  type RingReplySource,
  type RingReplyValues,
  type HeldRings,
} from './ring-reply';
export { diff, type RangeChange } from './diff';
export type { TokenRange, OwnedRange } from './ranges';
export { commonRangeStarts } from './range-starts';
export type { Ownership } from './ownership';
export { DEFAULT_ZONE, MAX_WEIGHT, hostOfId, type Member, type MemberInput } from './member';
export {
  DEFAULT_REPLICATION_FACTOR,
  DEFAULT_VNODES_PER_WEIGHT,
  MAX_VNODES,
  type RingOptions,
  type ResolvedRingOptions,
} from './options';
export { token, TOKEN_BITS, TOKEN_SPACE } from './token';
export { vnodeCount } from './layout';
export {
  RingError,
  EmptyRingError,
  DuplicateMemberError,
  InvalidMemberIdError,
  InvalidWeightError,
  InvalidZoneError,
  InvalidHostError,
  InvalidOptionsError,
  InvalidCountError,
  InvalidEpochError,
  UnknownMemberError,
  RingTooLargeError,
  InvalidRingJsonError,
  InvalidRingReplyError,
} from './errors';
