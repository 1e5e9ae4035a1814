import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { InvalidCountError, InvalidEpochError } from './errors';
import { Ring } from './ring';
import { Phase, RingEpoch } from './ring-epoch';
import * as arb from './test-support/arbitraries';
import { token } from './token';

const small = { vnodesPerWeight: 64 };
const abc = new Ring(['a:1', 'b:1', 'c:1'], small);
const abcd = abc.add('d:1');

describe('RingEpoch', () => {
  it('is settled, with the same replicas for reads and writes, when the rings are one', () => {
    const p = new RingEpoch(5, abc, abc);
    expect(p.settled).toBe(true);
    expect(p.phaseOf('a:1')).toBe(Phase.SERVING);
    expect(p.phaseOf('z:1')).toBe(Phase.OUTSIDE);
    const key = Buffer.from('user:1');
    expect(p.writeReplicas(key)).toEqual({ replicas: abc.preferenceList(key), pending: 0 });
  });

  it('sends writes to a joining owner as well, and reads only to current owners', () => {
    const p = new RingEpoch(6, abc, abcd);
    expect(p.phaseOf('d:1')).toBe(Phase.JOINING);
    let joiningKeys = 0;
    for (let i = 0; i < 200; i++) {
      const key = Buffer.from(`k${i}`);
      const { replicas, pending } = p.writeReplicas(key);
      const gains = abcd.preferenceList(key).includes('d:1');
      expect(pending).toBe(gains ? 1 : 0);
      expect(replicas.slice(0, 3)).toEqual(abc.preferenceList(key));
      expect(p.readReplicas(key)).toEqual(abc.preferenceList(key));
      expect(p.ownersOfToken(token(key)).sort()).toEqual(replicas.slice().sort());
      if (gains) joiningKeys++;
    }
    expect(joiningKeys).toBeGreaterThan(100);
  });

  it('sees a node that left the target ring as leaving', () => {
    const p = new RingEpoch(7, abcd, abc);
    expect(p.phaseOf('d:1')).toBe(Phase.LEAVING);
    expect(p.members().sort()).toEqual(['a:1', 'b:1', 'c:1', 'd:1']);
    const t = token('k1');
    expect(p.targetOwnersOfToken(t)).toEqual(abc.preferenceListForToken(t));
    expect(p.readOwnersOfToken(t)).toEqual(abcd.preferenceListForToken(t));
  });
});

describe('RingEpoch values', () => {
  it('takes an equal target ring as the read ring itself, so the epoch is settled', () => {
    const again = new Ring(['c:1', 'b:1', 'a:1'], small);
    const epoch = new RingEpoch(1, abc, again);
    expect(epoch.settled).toBe(true);
    expect(epoch.target).toBe(abc);
    expect(new RingEpoch(1, abc).target).toBe(abc);
  });

  it('answers for empty rings with empty lists', () => {
    const empty = new Ring([], small);
    const epoch = new RingEpoch(0, empty);
    expect(epoch.readReplicas('k')).toEqual([]);
    expect(epoch.writeReplicas('k')).toEqual({ replicas: [], pending: 0 });
    expect(epoch.members()).toEqual([]);
    const first = new RingEpoch(1, empty, abc);
    expect(first.phaseOf('a:1')).toBe(Phase.JOINING);
    expect(first.writeReplicas('k')).toEqual({ replicas: abc.preferenceList('k'), pending: 3 });
  });

  it('lists members of both rings in ring order, with the target ring entry of each', () => {
    const read = new Ring([{ id: 'b:1', weight: 1 }, 'c:1', 'z:1'], small);
    const target = new Ring([{ id: 'b:1', weight: 2 }, 'a:1', 'c:1'], small);
    const epoch = new RingEpoch(3, read, target);
    expect(epoch.members()).toEqual(['a:1', 'b:1', 'c:1', 'z:1']);
    expect(epoch.member('b:1')?.weight).toBe(2);
    expect(epoch.member('z:1')?.id).toBe('z:1');
    expect(epoch.member('q:1')).toBeUndefined();
  });

  it('uses a replication factor given in place of the ring one', () => {
    const epoch = new RingEpoch(2, abc, abcd, 2);
    expect(epoch.readReplicas('k')).toEqual(abc.preferenceList('k', 2));
    expect(epoch.owners('k').length).toBeLessThanOrEqual(3);
  });

  it('refuses an epoch or a replication factor out of range', () => {
    expect(() => new RingEpoch(-1, abc)).toThrow(InvalidEpochError);
    expect(() => new RingEpoch(1.5, abc)).toThrow(InvalidEpochError);
    expect(() => new RingEpoch(1, abc, abc, 0)).toThrow(InvalidCountError);
  });
});

/** Where each member of a pool stands: in the read ring, the target ring, or both. */
const rings = arb.members(7).chain((pool) =>
  fc
    .tuple(
      fc.array(fc.constantFrom('read', 'target', 'both'), {
        minLength: pool.length,
        maxLength: pool.length,
      }),
      arb.vnodesPerWeight,
      arb.replicationFactor,
    )
    .map(([where, vnodesPerWeight, replicationFactor]) => {
      const options = { vnodesPerWeight, replicationFactor };
      const read = pool.filter((_, i) => where[i] !== 'target');
      const target = pool.filter((_, i) => where[i] !== 'read');
      return {
        pool,
        read: new Ring(read, options),
        target: new Ring(target, options),
      };
    }),
);

const keys = fc.array(arb.key, { minLength: 1, maxLength: 20 });

describe('RingEpoch properties', () => {
  it('owners are the read list, then the target owners it lacks; writes go to exactly them', () => {
    fc.assert(
      fc.property(rings, keys, ({ read, target }, sample) => {
        const epoch = new RingEpoch(1, read, target);
        for (const key of sample) {
          const readList = epoch.readReplicas(key);
          const targetList = epoch.targetOwnersOfToken(token(key));
          const owners = epoch.owners(key);
          expect(owners.slice(0, readList.length)).toEqual(readList);
          for (const id of targetList) expect(owners).toContain(id);
          expect(new Set(owners).size).toBe(owners.length);
          expect(owners.length).toBe(new Set([...readList, ...targetList]).size);
          expect(epoch.ownersOfToken(token(key))).toEqual(owners);
          const { replicas, pending } = epoch.writeReplicas(key);
          expect(replicas).toEqual(owners);
          expect(pending).toBe(targetList.filter((id) => !readList.includes(id)).length);
        }
      }),
    );
  });

  it('phaseOf says which of the two rings a node is in', () => {
    fc.assert(
      fc.property(rings, arb.memberId, ({ pool, read, target }, stranger) => {
        const epoch = new RingEpoch(2, read, target);
        for (const id of [...pool.map((m) => m.id), stranger]) {
          const expected = read.has(id)
            ? target.has(id)
              ? Phase.SERVING
              : Phase.LEAVING
            : target.has(id)
              ? Phase.JOINING
              : Phase.OUTSIDE;
          expect(epoch.phaseOf(id)).toBe(expected);
        }
        const members = epoch.members();
        expect(new Set(members)).toEqual(
          new Set([...read.members, ...target.members].map((m) => m.id)),
        );
        expect(members.every((id) => epoch.phaseOf(id) !== Phase.OUTSIDE)).toBe(true);
        const sorted = [...members].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
        expect(members).toEqual(sorted);
      }),
    );
  });

  it('is settled when both rings hold the same members, and then nothing is pending', () => {
    fc.assert(
      fc.property(rings, keys, ({ read, target }, sample) => {
        const epoch = new RingEpoch(3, read, target);
        const moving = epoch.members().some((id) => epoch.phaseOf(id) !== Phase.SERVING);
        expect(epoch.settled).toBe(!moving);
        if (epoch.settled) {
          for (const key of sample) expect(epoch.writeReplicas(key).pending).toBe(0);
        }
      }),
    );
  });
});
