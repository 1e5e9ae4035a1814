import { Ring, RingTooLargeError } from '@kv/ring';
import { NotRegisteredError } from './errors';
import { Membership, MAX_DEAD_REMEMBERED } from './membership';

let t: number;
const now = (): number => t;

beforeEach(() => {
  t = 1000;
});

function fresh(): Membership {
  return new Membership({ now });
}

describe('Membership', () => {
  it('starts empty at epoch 0', () => {
    const m = fresh();
    expect(m.epoch).toBe(0);
    expect(m.ring.size).toBe(0);
    expect(m.list()).toEqual([]);
    expect(m.counts()).toEqual({
      members: 0,
      up: 0,
      probation: 0,
      joining: 0,
      leaving: 0,
      deadRemembered: 0,
    });
  });

  it('adds a registering node to the ring and bumps the epoch', () => {
    const m = fresh();
    const registration = m.register('127.0.0.1:5001', { zone: 'a', weight: 2 });
    expect(registration).toEqual({
      id: '127.0.0.1:5001',
      epoch: 1,
      change: {
        kind: 'joined',
        member: { id: '127.0.0.1:5001', zone: 'a', weight: 2 },
        epoch: 1,
      },
    });
    expect(m.ring.member('127.0.0.1:5001')).toEqual({ id: '127.0.0.1:5001', zone: 'a', weight: 2 });
    t += 250;
    expect(m.list()).toEqual([
      { id: '127.0.0.1:5001', state: 'up', zone: 'a', weight: 2, heartbeatAgeMs: 250 },
    ]);
  });

  it('uses zone "" and weight 1 when a node names none', () => {
    const m = fresh();
    m.register('127.0.0.1:5001');
    expect(m.ring.member('127.0.0.1:5001')).toEqual({ id: '127.0.0.1:5001', zone: '', weight: 1 });
  });

  it('refreshes an unchanged re-registration without a duplicate or an epoch bump', () => {
    const m = fresh();
    m.register('127.0.0.1:5001', { zone: 'a' });
    const ring = m.ring;
    t += 4000;
    const again = m.register('127.0.0.1:5001', { zone: 'a', weight: 1 });
    expect(again).toEqual({ id: '127.0.0.1:5001', epoch: 1, change: undefined });
    expect(m.ring).toBe(ring);
    expect(m.ring.size).toBe(1);
    expect(m.list()[0]?.heartbeatAgeMs).toBe(0);
  });

  it('bumps the epoch once when a re-registration changes the weight, the zone or both', () => {
    const m = fresh();
    m.register('127.0.0.1:5001', { zone: 'a', weight: 1 });
    m.register('127.0.0.1:5002', { zone: 'b', weight: 1 });

    const reweighted = m.register('127.0.0.1:5001', { zone: 'a', weight: 3 });
    expect(reweighted.epoch).toBe(3);
    expect(reweighted.change).toEqual({
      kind: 'updated',
      member: { id: '127.0.0.1:5001', zone: 'a', weight: 3 },
      previous: { id: '127.0.0.1:5001', zone: 'a', weight: 1 },
      epoch: 3,
    });

    expect(m.register('127.0.0.1:5001', { zone: 'c', weight: 3 }).epoch).toBe(4);
    expect(m.register('127.0.0.1:5001', { zone: 'a', weight: 1 }).epoch).toBe(5);
    expect(m.ring.size).toBe(2);
    expect(
      m.ring.equals(
        new Ring([
          { id: '127.0.0.1:5001', zone: 'a' },
          { id: '127.0.0.1:5002', zone: 'b' },
        ]),
      ),
    ).toBe(true);
  });

  it('treats omitted options of a re-registration as the defaults', () => {
    const m = fresh();
    m.register('127.0.0.1:5001', { zone: 'a', weight: 2 });
    const change = m.register('127.0.0.1:5001').change;
    expect(change?.member).toEqual({ id: '127.0.0.1:5001', zone: '', weight: 1 });
  });

  it('answers a heartbeat with the epoch and restarts the silence', () => {
    const m = fresh();
    m.register('127.0.0.1:5001');
    m.register('127.0.0.1:5002');
    t += 900;
    expect(m.heartbeat('127.0.0.1:5001')).toBe(2);
    expect(m.silence()).toEqual([
      { id: '127.0.0.1:5001', silentMs: 0 },
      { id: '127.0.0.1:5002', silentMs: 900 },
    ]);
  });

  it('excuses time from every silence, never past the present', () => {
    const m = fresh();
    m.register('127.0.0.1:5001');
    t += 300;
    m.register('127.0.0.1:5002');
    t += 100;
    m.excuse(250);
    expect(m.silence()).toEqual([
      { id: '127.0.0.1:5001', silentMs: 150 },
      { id: '127.0.0.1:5002', silentMs: 0 },
    ]);
  });

  it('rejects a heartbeat from a node that never registered', () => {
    const m = fresh();
    expect(() => m.heartbeat('127.0.0.1:5001')).toThrow(NotRegisteredError);
    expect(() => m.heartbeat('127.0.0.1:5001')).toThrow(
      'node 127.0.0.1:5001 is not registered: send REGISTER_NODE',
    );
  });

  it('removes a leaving node at once, bumps the epoch and does not list it as dead', () => {
    const m = fresh();
    m.register('127.0.0.1:5001');
    m.register('127.0.0.1:5002');
    const change = m.unregister('127.0.0.1:5001');
    expect(change).toEqual({
      kind: 'left',
      member: { id: '127.0.0.1:5001', zone: '', weight: 1 },
      epoch: 3,
    });
    expect(m.ring.has('127.0.0.1:5001')).toBe(false);
    expect(m.list(true).map((s) => s.id)).toEqual(['127.0.0.1:5002']);
    expect(() => m.heartbeat('127.0.0.1:5001')).toThrow(NotRegisteredError);
    expect(() => m.unregister('127.0.0.1:5001')).toThrow(NotRegisteredError);
    expect(m.epoch).toBe(3);
  });

  it('removes a dead node, remembers it for the full listing, and readmits it as a fresh join', () => {
    const m = fresh();
    m.register('127.0.0.1:5002');
    m.register('127.0.0.1:5001', { zone: 'z' });
    t += 5000;
    m.heartbeat('127.0.0.1:5002');
    t += 100;
    const change = m.markDead('127.0.0.1:5001');
    expect(change).toEqual({
      kind: 'died',
      member: { id: '127.0.0.1:5001', zone: 'z', weight: 1 },
      silentMs: 5100,
      epoch: 3,
    });
    expect(m.ring.has('127.0.0.1:5001')).toBe(false);
    expect(m.list().map((s) => s.id)).toEqual(['127.0.0.1:5002']);
    expect(m.list(true)).toEqual([
      { id: '127.0.0.1:5001', state: 'dead', zone: 'z', weight: 1, heartbeatAgeMs: 5100 },
      { id: '127.0.0.1:5002', state: 'up', zone: '', weight: 1, heartbeatAgeMs: 100 },
    ]);
    expect(m.counts()).toEqual({
      members: 1,
      up: 1,
      probation: 0,
      joining: 0,
      leaving: 0,
      deadRemembered: 1,
    });
    expect(() => m.heartbeat('127.0.0.1:5001')).toThrow(NotRegisteredError);
    expect(() => m.markDead('127.0.0.1:5001')).toThrow(NotRegisteredError);

    const rejoin = m.register('127.0.0.1:5001', { zone: 'z' });
    expect(rejoin.change?.kind).toBe('joined');
    expect(rejoin.epoch).toBe(4);
    expect(m.list(true).map((s) => s.state)).toEqual(['up', 'up']);
  });

  it(`remembers only the ${MAX_DEAD_REMEMBERED} most recent deaths`, () => {
    // Few virtual nodes: a ring is rebuilt on each of these 210 changes.
    const m = new Membership({ now, ring: { vnodesPerWeight: 1 } });
    const ids = Array.from({ length: MAX_DEAD_REMEMBERED + 5 }, (_, i) => `10.0.0.${i}:5001`);
    for (const id of ids) m.register(id);
    for (const id of ids) m.markDead(id);
    const dead = m.list(true).map((s) => s.id);
    expect(dead).toHaveLength(MAX_DEAD_REMEMBERED);
    for (const id of ids.slice(0, 5)) expect(dead).not.toContain(id);
    for (const id of ids.slice(5)) expect(dead).toContain(id);
    expect(m.epoch).toBe(2 * ids.length);
  });

  it('lists members sorted by id as UTF-8 bytes, as the ring orders them', () => {
    const m = fresh();
    for (const id of ['b:1', 'B:1', 'a:1', 'é:1']) m.register(id);
    expect(m.list().map((s) => s.id)).toEqual(['B:1', 'a:1', 'b:1', 'é:1']);
  });

  it('leaves everything unchanged when the ring refuses a member', () => {
    const m = fresh();
    m.register('127.0.0.1:5001');
    // 3000 × 2048 virtual nodes is over the ring's limit of 2^22.
    expect(() => m.register('127.0.0.1:5002', { weight: 3000 })).toThrow(RingTooLargeError);
    expect(() => m.register('127.0.0.1:5001', { weight: 3000 })).toThrow(RingTooLargeError);
    expect(m.epoch).toBe(1);
    expect(m.list().map((s) => [s.id, s.weight])).toEqual([['127.0.0.1:5001', 1]]);
  });

  it('restores the same epoch and ring with every member on probation until it heartbeats', () => {
    const m = new Membership({ now, ring: { replicationFactor: 2, vnodesPerWeight: 64 } });
    m.register('127.0.0.1:5001', { zone: 'a' });
    m.register('127.0.0.1:5002', { zone: 'b', weight: 2.5 });
    m.register('127.0.0.1:5003');
    m.unregister('127.0.0.1:5003');
    const state = JSON.parse(JSON.stringify(m.toState())) as ReturnType<Membership['toState']>;

    t = 50_000;
    const restored = Membership.restore(state, { now, ring: { replicationFactor: 5 } });
    expect(restored.epoch).toBe(4);
    expect(restored.ring.equals(m.ring)).toBe(true);
    expect(restored.ring.replicationFactor).toBe(2);
    expect(restored.list().map((s) => [s.id, s.state, s.heartbeatAgeMs])).toEqual([
      ['127.0.0.1:5001', 'probation', 0],
      ['127.0.0.1:5002', 'probation', 0],
    ]);
    t += 10;
    expect(restored.heartbeat('127.0.0.1:5002')).toBe(4);
    expect(restored.list().map((s) => s.state)).toEqual(['probation', 'up']);
    expect(restored.counts()).toEqual({
      members: 2,
      up: 1,
      probation: 1,
      joining: 0,
      leaving: 0,
      deadRemembered: 0,
    });
    restored.register('127.0.0.1:5001', { zone: 'a' });
    expect(restored.list().map((s) => s.state)).toEqual(['up', 'up']);
    expect(restored.epoch).toBe(4);
  });
});

describe('Membership: joining and leaving', () => {
  const a = '127.0.0.1:5001';
  const b = '127.0.0.1:5002';
  const c = '127.0.0.1:5003';

  function withMembers(...ids: string[]): Membership {
    const m = fresh();
    for (const id of ids) m.register(id);
    return m;
  }

  it('lets the first node serve at once even when it asks to join', () => {
    const m = fresh();
    expect(m.register(a, { joining: true }).change?.kind).toBe('joined');
    expect(m.ring.has(a)).toBe(true);
    expect(m.target).toBe(m.ring);
  });

  it('puts a joining node in the target ring only, until it is ready', () => {
    const m = withMembers(a, b);
    const registration = m.register(c, { joining: true });
    expect(registration.change).toMatchObject({ kind: 'joining', epoch: 3 });
    expect(m.ring.has(c)).toBe(false);
    expect(m.target.has(c)).toBe(true);
    expect(m.list().map((s) => [s.id, s.state])).toEqual([
      [a, 'up'],
      [b, 'up'],
      [c, 'joining'],
    ]);
    expect(m.counts()).toMatchObject({ members: 3, up: 2, joining: 1 });
    expect(m.ready(c)).toMatchObject({ kind: 'joined', epoch: 4 });
    expect(m.ring.has(c)).toBe(true);
    expect(m.target).toBe(m.ring);
    expect(m.ready(c)).toBeUndefined();
    expect(m.epoch).toBe(4);
  });

  it('sends a member that restarted empty back to joining', () => {
    const m = withMembers(a, b);
    expect(m.register(b).change).toBeUndefined();
    expect(m.register(b, { joining: true }).change).toMatchObject({ kind: 'joining', epoch: 3 });
    expect(m.ring.has(b)).toBe(false);
    expect(m.phase(b)).toBe('joining');
    // A heartbeat-driven re-registration while joining changes nothing.
    expect(m.register(b, { joining: true }).change).toBeUndefined();
  });

  it('keeps a leaving member serving reads while writes move on, then removes it', () => {
    const m = withMembers(a, b, c);
    expect(m.leave(b)).toMatchObject({ kind: 'leaving', epoch: 4 });
    expect(m.ring.has(b)).toBe(true);
    expect(m.target.has(b)).toBe(false);
    expect(m.phase(b)).toBe('leaving');
    expect(m.list().find((s) => s.id === b)?.state).toBe('leaving');
    expect(m.leave(b)).toBeUndefined();
    expect(m.unregister(b)).toMatchObject({ kind: 'left', epoch: 5 });
    expect(m.ring.has(b) || m.target.has(b)).toBe(false);
    expect(m.target).toBe(m.ring);
  });

  it('removes a joining member that leaves or dies from every ring', () => {
    const m = withMembers(a, b);
    m.register(c, { joining: true });
    expect(m.leave(c)).toMatchObject({ kind: 'left' });
    expect(m.target.has(c)).toBe(false);
    m.register(c, { joining: true });
    expect(m.markDead(c)).toMatchObject({ kind: 'died' });
    expect(m.target.has(c)).toBe(false);
    expect(m.target).toBe(m.ring);
  });

  it('refuses ready and leave from a node that is not a member', () => {
    const m = withMembers(a);
    expect(() => m.ready(b)).toThrow(NotRegisteredError);
    expect(() => m.leave(b)).toThrow(NotRegisteredError);
  });

  it('restores both rings, so a join or leave in progress survives a restart', () => {
    const m = withMembers(a, b, c);
    m.leave(a);
    m.register('127.0.0.1:5004', { joining: true });
    const restored = Membership.restore(m.toState(), { now });
    expect(restored.ring.equals(m.ring)).toBe(true);
    expect(restored.target.equals(m.target)).toBe(true);
    expect(restored.phase(a)).toBe('leaving');
    expect(restored.phase('127.0.0.1:5004')).toBe('joining');
    expect(withMembers(a).toState()).not.toHaveProperty('target');
  });

  it('publishes its rings as the ring epoch nodes and clients place keys by', () => {
    const m = withMembers(a, b, c);
    m.leave(a);
    m.register('127.0.0.1:5004', { joining: true });
    const epoch = m.ringEpoch;
    expect(epoch.epoch).toBe(m.epoch);
    expect(epoch.read).toBe(m.ring);
    expect(epoch.target).toBe(m.target);
    for (const { id, state } of m.list()) {
      expect(epoch.phaseOf(id)).toBe(
        state === 'joining' || state === 'leaving' ? state : 'serving',
      );
    }
  });
});
