import fc from 'fast-check';
import { Ring } from './ring';
import * as arb from './test-support/arbitraries';

describe('ownership', () => {
  it('primary shares sum to 1 and replica shares to min(RF, members)', () => {
    fc.assert(
      fc.property(
        arb.members(),
        arb.vnodesPerWeight,
        arb.replicationFactor,
        (members, vnodesPerWeight, replicationFactor) => {
          const ring = new Ring(members, { vnodesPerWeight, replicationFactor });
          const shares = ring.ownership();
          expect(shares.map((s) => s.id)).toEqual(ring.members.map((m) => m.id));
          const sum = (f: (s: (typeof shares)[number]) => number): number =>
            shares.reduce((a, s) => a + f(s), 0);
          expect(sum((s) => s.primary)).toBeCloseTo(1, 12);
          expect(sum((s) => s.replica)).toBeCloseTo(
            Math.min(replicationFactor, members.length),
            12,
          );
          for (const s of shares) expect(s.replica).toBeGreaterThanOrEqual(s.primary);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('agrees with the ranges', () => {
    const ring = new Ring(['a', { id: 'b', weight: 2 }, { id: 'c', zone: 'z' }], {
      vnodesPerWeight: 16,
    });
    const primary = new Map<string, number>();
    const replica = new Map<string, number>();
    for (const r of ring.ranges()) {
      const length = r.end - r.start;
      primary.set(r.owners[0] as string, (primary.get(r.owners[0] as string) ?? 0) + length);
      for (const id of r.owners) replica.set(id, (replica.get(id) ?? 0) + length);
    }
    for (const s of ring.ownership()) {
      expect(s.primary * 2 ** 48).toBe(primary.get(s.id));
      expect(s.replica * 2 ** 48).toBe(replica.get(s.id));
    }
  });

  it('gives a single member everything', () => {
    expect(new Ring(['solo'], { vnodesPerWeight: 4 }).ownership()).toEqual([
      { id: 'solo', primary: 1, replica: 1 },
    ]);
  });

  it('keeps 10 equal members within ±10% of the mean with the default vnodes', () => {
    const ring = new Ring(Array.from({ length: 10 }, (_, i) => `10.0.0.${i + 1}:5001`));
    for (const s of ring.ownership()) {
      expect(s.primary).toBeGreaterThan(0.09);
      expect(s.primary).toBeLessThan(0.11);
    }
  });

  it('gives a weight-2 member about twice the share of a weight-1 member', () => {
    const ring = new Ring([
      ...Array.from({ length: 9 }, (_, i) => `n${i}`),
      { id: 'heavy', weight: 2 },
    ]);
    const shares = ring.ownership();
    const heavy = shares.find((s) => s.id === 'heavy')?.primary ?? 0;
    const light = shares.filter((s) => s.id !== 'heavy');
    const mean = light.reduce((a, s) => a + s.primary, 0) / light.length;
    expect(heavy / (2 * mean)).toBeGreaterThan(0.9);
    expect(heavy / (2 * mean)).toBeLessThan(1.1);
  });
});
