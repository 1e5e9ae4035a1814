import { InvalidOptionsError } from './errors';

/** Default number of virtual nodes per unit of weight; see docs/ring.md for the measurement. */
export const DEFAULT_VNODES_PER_WEIGHT = 2048;

/** Default number of replicas of each key. */
export const DEFAULT_REPLICATION_FACTOR = 3;

/**
 * Most virtual nodes one ring may hold (2^22, about 4 million). It bounds the memory and
 * construction time a membership can cost: 100 members of weight 1 at the default
 * `vnodesPerWeight` use 204,800.
 */
export const MAX_VNODES = 2 ** 22;

/** Options of a ring. They are part of its identity: rings agree only if these agree. */
export interface RingOptions {
  /**
   * Virtual nodes per unit of weight (V): a member of weight w gets `round(w × V)` virtual
   * nodes, at least 1. An integer from 1 to {@link MAX_VNODES}. The default keeps 10 equal
   * members within ±10% of their mean share of the ring.
   * @default 2048
   */
  readonly vnodesPerWeight?: number;
  /**
   * Replicas of each key (N): the length of `preferenceList(key)` when the ring has at
   * least N members, and the lists `ownership()` and `diff()` consider. An integer of at
   * least 1.
   * @default 3
   */
  readonly replicationFactor?: number;
}

/** Options with every default filled in. */
export type ResolvedRingOptions = Required<RingOptions>;

/** Validates options and fills in defaults. */
export function resolveOptions(options: RingOptions = {}): ResolvedRingOptions {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionsError('options', options, 'an object');
  }
  const {
    vnodesPerWeight = DEFAULT_VNODES_PER_WEIGHT,
    replicationFactor = DEFAULT_REPLICATION_FACTOR,
  } = options;
  if (!isIntegerIn(vnodesPerWeight, 1, MAX_VNODES)) {
    throw new InvalidOptionsError(
      'vnodesPerWeight',
      vnodesPerWeight,
      `an integer from 1 to ${MAX_VNODES}`,
    );
  }
  if (!isIntegerIn(replicationFactor, 1, Number.MAX_SAFE_INTEGER)) {
    throw new InvalidOptionsError(
      'replicationFactor',
      replicationFactor,
      'an integer of at least 1',
    );
  }
  return Object.freeze({ vnodesPerWeight, replicationFactor });
}

function isIntegerIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}
