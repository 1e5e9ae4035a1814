import fc from 'fast-check';
import { hostOfId } from './member';
import { Ring } from './ring';
import * as arb from './test-support/arbitraries';
import { referenceRing } from './test-support/reference';

const runs = { numRuns: 150 };

describe('preference lists', () => {
  it('match a naive transcription of the spec for every n', () => {
    fc.assert(
      fc.property(
        arb.members(),
        arb.vnodesPerWeight,
        arb.replicationFactor,
        fc.array(arb.key, { minLength: 1, maxLength: 20 }),
        (members, vnodesPerWeight, replicationFactor, keys) => {
          const ring = new Ring(members, { vnodesPerWeight, replicationFactor });
          const reference = referenceRing(members, vnodesPerWeight);
          for (const key of keys) {
            for (let n = 1; n <= members.length + 1; n++) {
              expect(ring.preferenceList(key, n)).toEqual(reference(key, n));
            }
          }
        },
      ),
      runs,
    );
  });

  it('hold n distinct members, or all members when there are fewer', () => {
    fc.assert(
      fc.property(
        arb.members(),
        arb.vnodesPerWeight,
        arb.key,
        fc.integer({ min: 1, max: 10 }),
        (members, vnodesPerWeight, key, n) => {
          const ring = new Ring(members, { vnodesPerWeight });
          const list = ring.preferenceList(key, n);
          expect(list).toHaveLength(Math.min(n, members.length));
          expect(new Set(list).size).toBe(list.length);
          for (const id of list) expect(ring.has(id)).toBe(true);
        },
      ),
      runs,
    );
  });

  it('for n are a prefix of those for n + 1, and fallbacks continue them', () => {
    fc.assert(
      fc.property(
        arb.members(),
        arb.vnodesPerWeight,
        arb.replicationFactor,
        arb.key,
        (members, vnodesPerWeight, replicationFactor, key) => {
          const ring = new Ring(members, { vnodesPerWeight, replicationFactor });
          const all = ring.preferenceList(key, members.length);
          for (let n = 1; n <= members.length; n++) {
            expect(ring.preferenceList(key, n)).toEqual(all.slice(0, n));
            expect([...ring.preferenceList(key, n), ...ring.fallbacks(key, n)]).toEqual(all);
          }
        },
      ),
      runs,
    );
  });

  it('do not depend on member insertion order', () => {
    fc.assert(
      fc.property(
        arb
          .members()
          .chain((ms) =>
            fc.tuple(fc.constant(ms), fc.shuffledSubarray(ms, { minLength: ms.length })),
          ),
        arb.vnodesPerWeight,
        fc.array(arb.key, { maxLength: 20 }),
        ([members, shuffled], vnodesPerWeight, keys) => {
          const a = new Ring(members, { vnodesPerWeight });
          const b = new Ring(shuffled, { vnodesPerWeight });
          expect(b.toJSON()).toEqual(a.toJSON());
          expect(b.ranges()).toEqual(a.ranges());
          for (const key of keys) {
            expect(b.preferenceList(key, members.length)).toEqual(
              a.preferenceList(key, members.length),
            );
          }
        },
      ),
      runs,
    );
  });

  it('change minimally when a member joins or leaves (no zones)', () => {
    fc.assert(
      fc.property(
        arb.members(8, false),
        arb.member.map(({ id, weight }) => (weight === undefined ? { id } : { id, weight })),
        arb.vnodesPerWeight,
        fc.array(arb.key, { minLength: 1, maxLength: 30 }),
        (members, joiner, vnodesPerWeight, keys) => {
          fc.pre(!members.some((m) => m.id === joiner.id));
          const before = new Ring(members, { vnodesPerWeight });
          const after = before.add(joiner);
          for (const key of keys) {
            const listBefore = before.preferenceList(key, before.size);
            const listAfter = after.preferenceList(key, after.size);
            // Joining inserts the new member somewhere; the others keep their order.
            expect(listAfter.filter((id) => id !== joiner.id)).toEqual(listBefore);
            // Leaving is the same change read backwards.
            expect(after.remove(joiner.id).preferenceList(key, before.size)).toEqual(listBefore);
            // So a key's replica set changes at most by the joiner taking one place.
            const n = 3;
            const gone = listBefore.slice(0, n).filter((id) => !listAfter.slice(0, n).includes(id));
            const added = listAfter
              .slice(0, n)
              .filter((id) => !listBefore.slice(0, n).includes(id));
            expect(added.length).toBeLessThanOrEqual(1);
            if (added.length === 1) expect(added[0]).toBe(joiner.id);
            expect(gone.length).toBeLessThanOrEqual(1);
          }
        },
      ),
      runs,
    );
  });

  it('spread over distinct zones when n ≤ number of zones', () => {
    fc.assert(
      fc.property(
        arb.members(),
        arb.vnodesPerWeight,
        arb.key,
        fc.integer({ min: 1, max: 8 }),
        (members, vnodesPerWeight, key, n) => {
          const ring = new Ring(members, { vnodesPerWeight });
          const zoneOf = new Map(ring.members.map((m) => [m.id, m.zone]));
          const zoneCount = new Set(zoneOf.values()).size;
          const list = ring.preferenceList(key, n);
          const zones = new Set(list.map((id) => zoneOf.get(id)));
          expect(zones.size).toBe(Math.min(list.length, zoneCount));
        },
      ),
      runs,
    );
  });

  it('keep the first member of each zone ahead of the fill', () => {
    const ring = new Ring(
      [
        { id: 'a1', zone: 'a' },
        { id: 'a2', zone: 'a' },
        { id: 'a3', zone: 'a' },
        { id: 'b1', zone: 'b' },
      ],
      { vnodesPerWeight: 16 },
    );
    for (let i = 0; i < 200; i++) {
      const list = ring.preferenceList(`k${i}`, 3);
      expect(list.filter((id) => id === 'b1')).toHaveLength(1);
      expect(list.indexOf('b1')).toBeLessThanOrEqual(1);
    }
  });
});

describe('preference lists with host labels', () => {
  it('never put two copies of a key on one host while there are enough hosts', () => {
    // Zones are larger than hosts: a host's members share its zone (or none has a zone).
    const zoned = fc.boolean();
    fc.assert(
      fc.property(
        arb.members(10),
        zoned,
        arb.vnodesPerWeight,
        arb.replicationFactor,
        fc.array(arb.key, { minLength: 1, maxLength: 10 }),
        (given, withZones, vnodesPerWeight, replicationFactor, keys) => {
          const members = given.map(({ id, weight, host }) => {
            const h = host ?? hostOfId(id);
            return {
              id,
              ...(weight !== undefined && { weight }),
              ...(host && { host }),
              ...(withZones && { zone: h < 'h2' ? 'a' : 'b' }),
            };
          });
          const ring = new Ring(members, { vnodesPerWeight, replicationFactor });
          const hostOf = new Map(ring.members.map((m) => [m.id, m.host ?? hostOfId(m.id)]));
          const hosts = new Set(hostOf.values()).size;
          for (const key of keys) {
            const list = ring.preferenceList(key);
            const used = new Set(list.map((id) => hostOf.get(id)));
            // Distinct hosts first; only once every host holds a copy do they repeat.
            expect(used.size).toBe(Math.min(list.length, hosts));
          }
        },
      ),
      runs,
    );
  });

  it('spread nodes that share machines over the machines, like one node per core', () => {
    // Four machines, four nodes on each, as `host:port` ids: the host comes from the id.
    const ids = [1, 2, 3, 4].flatMap((m) => [1, 2, 3, 4].map((p) => `10.0.0.${m}:500${p}`));
    const ring = new Ring(ids, { vnodesPerWeight: 16 });
    for (let i = 0; i < 300; i++) {
      const list = ring.preferenceList(`k${i}`, 3);
      expect(new Set(list.map(hostOfId)).size).toBe(3);
      // Past the hosts, the rest follow in walk order: the full order still has every node.
      expect(new Set(ring.preferenceList(`k${i}`, 16)).size).toBe(16);
    }
  });

  it('place nodes of one machine in plain walk order, as without labels', () => {
    const local = ['127.0.0.1:5001', '127.0.0.1:5002', '127.0.0.1:5003', '127.0.0.1:5004'];
    const ring = new Ring(local, { vnodesPerWeight: 16 });
    const plain = new Ring(
      local.map((id) => ({ id, host: 'one' })),
      { vnodesPerWeight: 16 },
    );
    const reference = referenceRing(
      local.map((id) => ({ id, host: 'x' })),
      16,
    );
    for (let i = 0; i < 100; i++) {
      expect(ring.preferenceList(`k${i}`, 4)).toEqual(plain.preferenceList(`k${i}`, 4));
      expect(ring.preferenceList(`k${i}`, 4)).toEqual(reference(`k${i}`, 4));
    }
  });

  it('take zones first, then hosts, then the rest', () => {
    const ring = new Ring(
      [
        { id: 'a:1', zone: 'east', host: 'm1' },
        { id: 'b:1', zone: 'east', host: 'm1' },
        { id: 'c:1', zone: 'east', host: 'm2' },
        { id: 'd:1', zone: 'west', host: 'm3' },
      ],
      { vnodesPerWeight: 16 },
    );
    for (let i = 0; i < 200; i++) {
      const list = ring.preferenceList(`k${i}`, 3);
      expect(list).toContain('d:1'); // the only west member: zone pass
      expect(list).toContain('c:1'); // the only m2 member: host pass
    }
  });
});

describe('hostOfId', () => {
  it('takes the host of host:port ids and the whole id otherwise', () => {
    expect(hostOfId('10.0.0.1:5001')).toBe('10.0.0.1');
    expect(hostOfId('[::1]:5001')).toBe('[::1]');
    expect(hostOfId('db-7.example:6379')).toBe('db-7.example');
    expect(hostOfId('node-a')).toBe('node-a');
    expect(hostOfId('node:a')).toBe('node:a');
    expect(hostOfId(':5001')).toBe(':5001');
    expect(hostOfId('host:')).toBe('host:');
  });
});
