import fc from 'fast-check';
import { InvalidHostError } from './errors';
import type { MemberInput } from './member';
import { Ring } from './ring';
import * as arb from './test-support/arbitraries';
import type { VnodeTable } from './vnode-table';

/** A membership change, as a cluster makes them. */
type Step =
  | { kind: 'join'; member: MemberInput }
  | { kind: 'leave'; pick: number }
  | { kind: 'reweight'; pick: number; weight: number }
  | { kind: 'relabel'; pick: number; zone: string | undefined; host: string | undefined }
  | { kind: 'replace'; members: MemberInput[] };

const step: fc.Arbitrary<Step> = fc.oneof(
  arb.member.map((member) => ({ kind: 'join' as const, member })),
  fc.nat().map((pick) => ({ kind: 'leave' as const, pick })),
  fc.record({ kind: fc.constant('reweight' as const), pick: fc.nat(), weight: arb.weight }),
  fc.record({
    kind: fc.constant('relabel' as const),
    pick: fc.nat(),
    zone: arb.zone,
    host: arb.host,
  }),
  arb.members(6).map((members) => ({ kind: 'replace' as const, members })),
);

/** Applies a step to a ring the way the coordinator does: add, remove, reweight, or all at once. */
function apply(ring: Ring, s: Step): Ring {
  const members = ring.members;
  const picked =
    members.length > 0 ? members[(s as { pick: number }).pick % members.length] : undefined;
  switch (s.kind) {
    case 'join':
      return ring.has(s.member.id) ? ring : ring.add(s.member);
    case 'leave':
      return picked ? ring.remove(picked.id) : ring;
    case 'reweight':
      return picked ? ring.reweight(picked.id, s.weight) : ring;
    case 'relabel':
      return picked
        ? ring.withMembers(
            members.map((m) =>
              m.id === picked.id ? { id: m.id, weight: m.weight, zone: s.zone, host: s.host } : m,
            ),
          )
        : ring;
    case 'replace':
      return ring.withMembers(s.members);
  }
}

/** The ring's precomputed table (internal to the package, so not in its typings). */
function tableOf(ring: Ring): VnodeTable {
  return (ring as unknown as { vnodes: VnodeTable }).vnodes;
}

/** Everything a ring answers, position by position, compared with a ring built from scratch. */
function expectSameAsScratch(ring: Ring): void {
  const scratch = new Ring(ring.members, ring.options);
  const a = tableOf(ring);
  const b = tableOf(scratch);
  expect(Array.from(a.tokens)).toEqual(Array.from(b.tokens));
  expect(a.width).toBe(b.width);
  for (let pos = 0; pos < a.size; pos++) {
    expect(a.ownerId(pos)).toBe(b.ownerId(pos));
    expect(a.list(pos, a.width)).toEqual(b.list(pos, b.width));
    expect(a.list(pos, ring.size)).toEqual(b.list(pos, scratch.size));
  }
  expect(ring.ownership()).toEqual(scratch.ownership());
  expect(ring.equals(scratch)).toBe(true);
  expect(JSON.stringify(ring)).toBe(JSON.stringify(scratch));
}

describe('a ring updated change by change', () => {
  it('equals a ring built from scratch after any sequence of joins, leaves and changes', () => {
    fc.assert(
      fc.property(
        arb.members(6),
        arb.vnodesPerWeight,
        arb.replicationFactor,
        fc.array(step, { minLength: 1, maxLength: 12 }),
        (members, vnodesPerWeight, replicationFactor, steps) => {
          let ring = new Ring(members, { vnodesPerWeight, replicationFactor });
          for (const s of steps) {
            ring = apply(ring, s);
            expectSameAsScratch(ring);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('equals a ring built from scratch in larger rings, where only nearby lists are redone', () => {
    // Enough vnodes that a change touches a small part of the ring and is not redone whole.
    const hosts = ['m1', 'm2', 'm3', 'm4', 'm5'];
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: 400 }), { minLength: 6, maxLength: 40 }),
        fc.boolean(),
        fc.array(
          fc.record({ n: fc.integer({ min: 1, max: 400 }), weight: fc.constantFrom(1, 2, 0.5) }),
          { minLength: 1, maxLength: 6 },
        ),
        (ns, labelled, changes) => {
          const memberOf = (n: number, weight = 1): MemberInput => ({
            id: `10.1.${n >> 8}.${n & 255}:5001`,
            weight,
            ...(labelled && { zone: `z${n % 3}`, host: hosts[n % hosts.length] }),
          });
          let ring = new Ring(
            ns.map((n) => memberOf(n)),
            { vnodesPerWeight: 32 },
          );
          for (const { n, weight } of changes) {
            const id = memberOf(n).id;
            ring = !ring.has(id)
              ? ring.add(memberOf(n, weight))
              : weight === 1
                ? ring.remove(id)
                : ring.reweight(id, weight);
            expectSameAsScratch(ring);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('is derived from the ring a reader held, from JSON, as from scratch', () => {
    const before = new Ring(['a:1', 'b:1', 'c:1', 'd:1'], { vnodesPerWeight: 16 });
    const json = JSON.parse(JSON.stringify(before.remove('b:1').add('e:1').toJSON())) as unknown;
    const derived = Ring.fromJSON(json, before);
    expectSameAsScratch(derived);
    expect(derived.equals(Ring.fromJSON(json))).toBe(true);
  });

  it('ignores a basis with other vnode options and builds from scratch', () => {
    const basis = new Ring(['a:1', 'b:1'], { vnodesPerWeight: 8 });
    const ring = new Ring(['a:1', 'c:1'], { vnodesPerWeight: 16 }, basis);
    expect(ring.vnodeCount).toBe(32);
    expectSameAsScratch(ring);
  });

  it('keeps the ring it was derived from unchanged', () => {
    const before = new Ring(['a:1', 'b:1', 'c:1'], { vnodesPerWeight: 16 });
    const lists = Array.from({ length: 50 }, (_, i) => before.preferenceList(`k${i}`));
    before.add('d:1').remove('a:1').reweight('b:1', 3);
    expect(Array.from({ length: 50 }, (_, i) => before.preferenceList(`k${i}`))).toEqual(lists);
    expectSameAsScratch(before);
  });
});

describe('host labels in ring data', () => {
  it('serialise only when they differ from the host in the id', () => {
    const ring = new Ring([
      { id: '10.0.0.1:5001', host: '10.0.0.1' },
      { id: '10.0.0.1:5002', host: 'rack1-m3' },
    ]);
    expect(ring.toJSON().members).toEqual([
      { id: '10.0.0.1:5001', weight: 1, zone: '' },
      { id: '10.0.0.1:5002', weight: 1, zone: '', host: 'rack1-m3' },
    ]);
    expect(Ring.fromJSON(JSON.parse(JSON.stringify(ring)) as unknown).equals(ring)).toBe(true);
  });

  it('tell rings apart', () => {
    const a = new Ring([{ id: 'n1', host: 'x' }]);
    expect(a.equals(new Ring([{ id: 'n1', host: 'y' }]))).toBe(false);
    expect(a.equals(new Ring([{ id: 'n1', host: 'x' }]))).toBe(true);
  });

  it('are refused when not a non-empty string', () => {
    for (const host of ['', 5, null]) {
      expect(() => new Ring([{ id: 'a', host } as never])).toThrow(InvalidHostError);
    }
  });
});
