import fc from 'fast-check';
import type { MemberInput } from '../member';
import type { Ring } from '../ring';

/** Member ids: short ASCII ones (to collide on prefixes) and arbitrary Unicode ones. */
export const memberId = fc.oneof(
  fc.string({ minLength: 1, maxLength: 6 }),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 4 }),
);

/** Weights that exercise rounding: small, fractional, and whole. */
export const weight = fc.oneof(
  fc.constantFrom(0.01, 0.5, 1, 1.5, 2, 3),
  fc.double({ min: 0.05, max: 3, noNaN: true }),
);

export const zone = fc.option(fc.constantFrom('', 'a', 'b', 'c', 'd'), { nil: undefined });

/** Host labels few enough that members share them. */
export const host = fc.option(fc.constantFrom('h1', 'h2', 'h3'), { nil: undefined });

export const member: fc.Arbitrary<MemberInput> = fc.record(
  { id: memberId, weight, zone, host },
  { requiredKeys: ['id'] },
);

/** 1..maxLength members with distinct ids; without labels, none has a zone or host. */
export function members(maxLength = 8, withLabels = true): fc.Arbitrary<MemberInput[]> {
  const one = withLabels
    ? member
    : member.map(({ id, weight: w }) => (w === undefined ? { id } : { id, weight: w }));
  return fc.uniqueArray(one, { selector: (m) => m.id, minLength: 1, maxLength });
}

/** Small vnode counts keep rings cheap to build while still exercising every code path. */
export const vnodesPerWeight = fc.integer({ min: 1, max: 12 });

export const replicationFactor = fc.integer({ min: 1, max: 5 });

/** Keys as strings (any Unicode) and as bytes. */
export const key = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.uint8Array({ maxLength: 12 }),
);

/** The preference list of every token via `ring.ranges()`: a lookup by token. */
export function ownersAt(ring: Ring, t: number): readonly string[] {
  const ranges = ring.ranges();
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((ranges[mid]?.end ?? 0) <= t) lo = mid + 1;
    else hi = mid;
  }
  return ranges[lo]?.owners ?? [];
}
