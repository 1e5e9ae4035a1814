import { Buffer } from 'node:buffer';
import {
  DuplicateMemberError,
  EmptyRingError,
  InvalidCountError,
  InvalidMemberIdError,
  InvalidOptionsError,
  InvalidRingJsonError,
  InvalidWeightError,
  InvalidZoneError,
  RingError,
  RingTooLargeError,
  UnknownMemberError,
} from './errors';
import { MAX_VNODES } from './options';
import { Ring } from './ring';
import { token, TOKEN_SPACE } from './token';

const ids = ['10.0.0.1:5001', '10.0.0.2:5001', '10.0.0.3:5001', '10.0.0.4:5001'];
const small = { vnodesPerWeight: 8 };

describe('Ring construction', () => {
  it('fills in defaults and accepts bare ids', () => {
    const ring = new Ring(['b', { id: 'a', weight: 2, zone: 'z1' }]);
    expect(ring.options).toEqual({ vnodesPerWeight: 2048, replicationFactor: 3 });
    expect(ring.replicationFactor).toBe(3);
    expect(ring.members).toEqual([
      { id: 'a', weight: 2, zone: 'z1' },
      { id: 'b', weight: 1, zone: '' },
    ]);
    expect(ring.size).toBe(2);
    expect(ring.vnodeCount).toBe(3 * 2048);
  });

  it('sorts members by id as UTF-8 bytes, not UTF-16 code units', () => {
    // U+FF5E sorts before U+1F600 in UTF-8 (ef.. < f0..) but after it in UTF-16 (ff5e > d83d).
    const ring = new Ring(['\u{1F600}', '\uff5e', 'a'], small);
    expect(ring.members.map((m) => m.id)).toEqual(['a', '\uff5e', '\u{1F600}']);
  });

  it('gives round(weight × V) vnodes per member, at least one', () => {
    const v = (weight: number, vnodesPerWeight: number): number =>
      new Ring([{ id: 'x', weight }], { vnodesPerWeight }).vnodeCount;
    expect(v(1, 16)).toBe(16);
    expect(v(2, 16)).toBe(32);
    expect(v(0.71875, 16)).toBe(12); // 11.5 rounds half up
    expect(v(0.001, 16)).toBe(1);
  });

  it('rejects bad member ids', () => {
    for (const id of ['', 5, null, undefined, '\udc00x']) {
      expect(() => new Ring([{ id } as never])).toThrow(InvalidMemberIdError);
    }
    expect(() => new Ring([''])).toThrow(InvalidMemberIdError);
    expect(() => new Ring([42 as never])).toThrow(InvalidMemberIdError);
  });

  it('rejects duplicate ids', () => {
    const error = catchError(() => new Ring(['a', 'b', { id: 'a', zone: 'z' }]));
    expect(error).toBeInstanceOf(DuplicateMemberError);
    expect((error as DuplicateMemberError).id).toBe('a');
  });

  it('rejects weights that are not finite and positive', () => {
    for (const weight of [0, -1, NaN, Infinity, -Infinity, '1']) {
      const error = catchError(() => new Ring([{ id: 'a', weight } as never]));
      expect(error).toBeInstanceOf(InvalidWeightError);
      expect((error as InvalidWeightError).weight).toBe(weight);
    }
  });

  it('rejects zones that are not strings', () => {
    expect(() => new Ring([{ id: 'a', zone: 1 } as never])).toThrow(InvalidZoneError);
  });

  it('rejects bad options', () => {
    const bad = [
      { vnodesPerWeight: 0 },
      { vnodesPerWeight: 1.5 },
      { vnodesPerWeight: MAX_VNODES + 1 },
      { vnodesPerWeight: '8' },
      { replicationFactor: 0 },
      { replicationFactor: 2.5 },
      { replicationFactor: NaN },
    ];
    for (const options of bad) {
      const error = catchError(() => new Ring(['a'], options as never));
      expect(error).toBeInstanceOf(InvalidOptionsError);
      expect((error as InvalidOptionsError).option).toBe(Object.keys(options)[0]);
    }
    expect(() => new Ring(['a'], null as never)).toThrow(InvalidOptionsError);
  });

  it('refuses rings with more vnodes than the limit', () => {
    const error = catchError(() => new Ring([{ id: 'a', weight: 3000 }]));
    expect(error).toBeInstanceOf(RingTooLargeError);
    expect((error as RingTooLargeError).vnodes).toBe(3000 * 2048);
  });

  it('breaks equal vnode tokens by member id as UTF-8 bytes', () => {
    // The first 48 bits of SHA-256 agree for these two vnode strings (f8ec6da5bf2c...).
    expect(token('m13266318#0')).toBe(token('m24546832#0'));
    const ring = new Ring(['m24546832', 'm13266318'], { vnodesPerWeight: 1 });
    // Both vnodes sit at one token; the lower id comes first and owns the whole ring.
    expect(ring.ownership()).toEqual([
      { id: 'm13266318', primary: 1, replica: 1 },
      { id: 'm24546832', primary: 0, replica: 1 },
    ]);
    for (let i = 0; i < 50; i++) {
      expect(ring.preferenceList(`k${i}`, 2)).toEqual(['m13266318', 'm24546832']);
    }
  });

  it('builds identical rings from any insertion order', () => {
    const members = ids.map((id, i) => ({ id, weight: 1 + i / 2, zone: `z${i % 2}` }));
    const a = new Ring(members, small);
    const b = new Ring([...members].reverse(), small);
    expect(a.equals(b)).toBe(true);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    for (let i = 0; i < 200; i++) {
      expect(a.preferenceList(`k${i}`, 4)).toEqual(b.preferenceList(`k${i}`, 4));
    }
  });
});

describe('Ring changes', () => {
  const ring = new Ring(ids, small);

  it('add returns a new ring and leaves the old one alone', () => {
    const bigger = ring.add({ id: 'new', weight: 2 });
    expect(bigger).not.toBe(ring);
    expect(bigger.has('new')).toBe(true);
    expect(bigger.member('new')).toEqual({ id: 'new', weight: 2, zone: '' });
    expect(ring.has('new')).toBe(false);
    expect(ring.size).toBe(4);
    expect(bigger.options).toEqual(ring.options);
    expect(() => ring.add(ids[0] as string)).toThrow(DuplicateMemberError);
    expect(() => ring.add({ id: 'x', weight: -1 })).toThrow(InvalidWeightError);
  });

  it('remove returns a new ring without the member', () => {
    const smaller = ring.remove(ids[1] as string);
    expect(smaller.members.map((m) => m.id)).toEqual([ids[0], ids[2], ids[3]]);
    expect(ring.size).toBe(4);
    expect(() => ring.remove('nope')).toThrow(UnknownMemberError);
    expect(
      smaller
        .remove(ids[0] as string)
        .remove(ids[2] as string)
        .remove(ids[3] as string).size,
    ).toBe(0);
  });

  it('reweight returns a new ring with the new weight', () => {
    const heavier = ring.reweight(ids[2] as string, 3);
    expect(heavier.member(ids[2] as string)?.weight).toBe(3);
    expect(ring.member(ids[2] as string)?.weight).toBe(1);
    expect(heavier.vnodeCount).toBe(ring.vnodeCount + 16);
    expect(() => ring.reweight('nope', 1)).toThrow(UnknownMemberError);
    expect(() => ring.reweight(ids[0] as string, 0)).toThrow(InvalidWeightError);
  });

  it('exposes members as frozen values', () => {
    expect(Object.isFrozen(ring.members)).toBe(true);
    expect(Object.isFrozen(ring.members[0])).toBe(true);
    expect(Object.isFrozen(ring.options)).toBe(true);
  });
});

describe('Ring lookups', () => {
  const ring = new Ring(ids, small);

  it('primary is the head of the preference list', () => {
    for (let i = 0; i < 300; i++) {
      const key = `user:${i}`;
      expect(ring.primary(key)).toBe(ring.preferenceList(key)[0]);
      expect(ring.primary(Buffer.from(key))).toBe(ring.primary(key));
    }
  });

  it('preferenceListForToken places a key by its token exactly as preferenceList does', () => {
    for (let i = 0; i < 300; i++) {
      const key = `user:${i}`;
      expect(ring.preferenceListForToken(token(key), 4)).toEqual(ring.preferenceList(key, 4));
    }
    expect(() => ring.preferenceListForToken(0, 0)).toThrow(InvalidCountError);
    expect(() => new Ring().preferenceListForToken(0)).toThrow(EmptyRingError);
  });

  it('preferenceList defaults to the replication factor', () => {
    expect(ring.preferenceList('k')).toHaveLength(3);
    expect(new Ring(ids, { ...small, replicationFactor: 2 }).preferenceList('k')).toHaveLength(2);
  });

  it('returns every member when n exceeds the member count', () => {
    const all = ring.preferenceList('k', 10);
    expect(all).toHaveLength(4);
    expect([...all].sort()).toEqual([...ids].sort());
    expect(new Ring(['solo']).preferenceList('k')).toEqual(['solo']);
  });

  it('rejects n that is not an integer of at least 1', () => {
    for (const n of [0, -1, 1.5, NaN, Infinity, '2']) {
      const error = catchError(() => ring.preferenceList('k', n as never));
      expect(error).toBeInstanceOf(InvalidCountError);
      expect((error as InvalidCountError).count).toBe(n);
      expect(() => ring.fallbacks('k', n as never)).toThrow(InvalidCountError);
    }
  });

  it('fallbacks are the members past the first n, in preference order', () => {
    for (let i = 0; i < 100; i++) {
      const key = `k${i}`;
      const all = ring.preferenceList(key, ring.size);
      expect(ring.fallbacks(key)).toEqual(all.slice(3));
      expect(ring.fallbacks(key, 1)).toEqual(all.slice(1));
      expect(ring.fallbacks(key, 4)).toEqual([]);
      expect(ring.fallbacks(key, 9)).toEqual([]);
    }
  });

  it('throws EmptyRingError for lookups on an empty ring', () => {
    const empty = new Ring();
    expect(() => empty.primary('k')).toThrow(EmptyRingError);
    expect(() => empty.preferenceList('k')).toThrow(EmptyRingError);
    expect(() => empty.fallbacks('k')).toThrow(EmptyRingError);
    expect(empty.ownership()).toEqual([]);
    expect(empty.ranges()).toEqual([]);
  });
});

describe('Ring ranges', () => {
  it('cover the token space in order, with merged neighbours', () => {
    const ring = new Ring(ids, small);
    const ranges = ring.ranges();
    expect(ranges[0]?.start).toBe(0);
    expect(ranges[ranges.length - 1]?.end).toBe(TOKEN_SPACE);
    for (let i = 1; i < ranges.length; i++) {
      const [a, b] = [ranges[i - 1], ranges[i]];
      expect(b?.start).toBe(a?.end);
      expect(b?.owners).not.toEqual(a?.owners);
    }
    for (const r of ranges) {
      expect(r.start).toBeLessThan(r.end);
      expect(r.owners).toHaveLength(3);
    }
  });

  it('is one range for a single member', () => {
    expect(new Ring(['solo'], small).ranges()).toEqual([
      { start: 0, end: TOKEN_SPACE, owners: ['solo'] },
    ]);
  });
});

describe('Ring serialisation', () => {
  const ring = new Ring([{ id: 'b', weight: 1.5, zone: 'east' }, { id: 'a', zone: 'west' }, 'c'], {
    vnodesPerWeight: 10,
    replicationFactor: 2,
  });

  it('round-trips through JSON', () => {
    const json = JSON.parse(JSON.stringify(ring)) as unknown;
    expect(json).toEqual({
      vnodesPerWeight: 10,
      replicationFactor: 2,
      members: [
        { id: 'a', weight: 1, zone: 'west' },
        { id: 'b', weight: 1.5, zone: 'east' },
        { id: 'c', weight: 1, zone: '' },
      ],
    });
    const copy = Ring.fromJSON(json);
    expect(copy.equals(ring)).toBe(true);
    expect(copy.ranges()).toEqual(ring.ranges());
  });

  it('fills missing options with defaults', () => {
    expect(Ring.fromJSON({ members: ['a'] }).options).toEqual({
      vnodesPerWeight: 2048,
      replicationFactor: 3,
    });
  });

  it('rejects values that are not serialised rings', () => {
    for (const value of [null, 1, 'ring', [], {}, { members: {} }]) {
      expect(() => Ring.fromJSON(value)).toThrow(InvalidRingJsonError);
    }
    expect(() => Ring.fromJSON({ members: [{ id: '' }] })).toThrow(InvalidMemberIdError);
    expect(() => Ring.fromJSON({ members: [], replicationFactor: 0 })).toThrow(InvalidOptionsError);
  });

  it('equals compares options and members', () => {
    expect(ring.equals(ring.reweight('c', 1))).toBe(true);
    expect(ring.equals(ring.reweight('c', 2))).toBe(false);
    expect(ring.equals(new Ring(ring.members, { vnodesPerWeight: 10 }))).toBe(false);
    expect(ring.equals(ring.remove('c'))).toBe(false);
  });
});

describe('errors', () => {
  it('are RingErrors with a name and an optional cause', () => {
    const cause = new Error('root');
    const errors: RingError[] = [
      new EmptyRingError({ cause }),
      new DuplicateMemberError('a', { cause }),
      new InvalidMemberIdError('', { cause }),
      new InvalidWeightError('a', 0, { cause }),
      new InvalidZoneError('a', 1, { cause }),
      new InvalidOptionsError('replicationFactor', 0, 'an integer', { cause }),
      new InvalidCountError(0, { cause }),
      new UnknownMemberError('a', { cause }),
      new RingTooLargeError(10, 5, { cause }),
      new InvalidRingJsonError('bad', { cause }),
    ];
    for (const error of errors) {
      expect(error).toBeInstanceOf(RingError);
      expect(error).toBeInstanceOf(Error);
      expect(error.name).toBe(error.constructor.name);
      expect(error.cause).toBe(cause);
      expect(error.message.length).toBeGreaterThan(10);
    }
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}
