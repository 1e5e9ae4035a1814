import fc from 'fast-check';
import { diff, type RangeChange } from './diff';
import { Ring } from './ring';
import * as arb from './test-support/arbitraries';
import { ownersAt } from './test-support/arbitraries';
import { token, TOKEN_SPACE } from './token';

const options = { vnodesPerWeight: 8 };

function changeAt(changes: readonly RangeChange[], t: number): RangeChange | undefined {
  return changes.find((c) => c.start <= t && t < c.end);
}

describe('diff', () => {
  const ring = new Ring(['a', 'b', 'c', 'd'], options);

  it('is empty between equal rings', () => {
    expect(diff(ring, new Ring(['d', 'c', 'b', 'a'], options))).toEqual([]);
    expect(diff(new Ring(), new Ring())).toEqual([]);
  });

  it('covers the whole space when a ring is empty', () => {
    const empty = new Ring([], options);
    const grown = diff(empty, ring);
    expect(grown[0]?.start).toBe(0);
    expect(grown[grown.length - 1]?.end).toBe(TOKEN_SPACE);
    expect(grown.every((c) => c.before.length === 0 && c.after.length === 3)).toBe(true);
    const shrunk = diff(ring, empty);
    expect(shrunk.map((c) => [c.start, c.end])).toEqual(grown.map((c) => [c.start, c.end]));
  });

  it('reports ascending, non-empty, non-wrapping ranges with old and new owners', () => {
    const changes = diff(ring, ring.add('e'));
    expect(changes.length).toBeGreaterThan(0);
    let previousEnd = 0;
    for (const c of changes) {
      expect(c.start).toBeGreaterThanOrEqual(previousEnd);
      expect(c.start).toBeLessThan(c.end);
      expect(c.end).toBeLessThanOrEqual(TOKEN_SPACE);
      expect(c.before).not.toEqual(c.after);
      expect(c.after).toContain('e');
      expect(c.before).not.toContain('e');
      previousEnd = c.end;
    }
  });

  it('agrees with comparing preference lists', () => {
    fc.assert(
      fc.property(
        arb.members(6),
        arb.members(6),
        arb.vnodesPerWeight,
        arb.replicationFactor,
        fc.array(arb.key, { minLength: 1, maxLength: 40 }),
        (membersA, membersB, vnodesPerWeight, replicationFactor, keys) => {
          const before = new Ring(membersA, { vnodesPerWeight, replicationFactor });
          // Often a small step from `before`, sometimes an unrelated ring.
          const after =
            membersB.length % 2 === 0
              ? new Ring(membersB, { vnodesPerWeight, replicationFactor })
              : new Ring(
                  [
                    ...membersA.slice(1),
                    ...membersB.filter((m) => !membersA.some((a) => a.id === m.id)),
                  ],
                  {
                    vnodesPerWeight,
                    replicationFactor,
                  },
                );
          const changes = diff(before, after);
          for (const key of keys) {
            const t = token(key);
            const was = before.preferenceList(key);
            const is = after.preferenceList(key);
            const change = changeAt(changes, t);
            if (change === undefined) {
              expect(is).toEqual(was);
            } else {
              expect(is).not.toEqual(was);
              expect(change.before).toEqual(was);
              expect(change.after).toEqual(is);
            }
          }
          // Edges of every range, and the tokens just outside them.
          for (const c of changes) {
            for (const t of [c.start, c.end - 1]) {
              expect(ownersAt(before, t)).toEqual(c.before);
              expect(ownersAt(after, t)).toEqual(c.after);
            }
            for (const t of [c.start - 1, c.end]) {
              if (t < 0 || t >= TOKEN_SPACE || changeAt(changes, t) !== undefined) continue;
              expect(ownersAt(after, t)).toEqual(ownersAt(before, t));
            }
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('moves only the joiner’s share when a member joins', () => {
    const big = new Ring(
      Array.from({ length: 10 }, (_, i) => `node-${i}`),
      { vnodesPerWeight: 64, replicationFactor: 1 },
    );
    const changes = diff(big, big.add('node-10'));
    for (const c of changes) expect(c.after).toEqual(['node-10']);
    const moved = changes.reduce((sum, c) => sum + (c.end - c.start), 0) / TOKEN_SPACE;
    const share = big
      .add('node-10')
      .ownership()
      .find((o) => o.id === 'node-10')?.primary;
    expect(moved).toBeCloseTo(share ?? -1, 12);
  });
});
