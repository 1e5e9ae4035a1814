import { NotRegisteredError } from './errors';
import { checkIntervalFor, FailureDetector } from './failure-detector';
import { Membership, type MembershipChange } from './membership';

const TIMEOUT = 5000;
let t: number;
const now = (): number => t;

beforeEach(() => {
  t = 0;
});

afterEach(() => {
  jest.useRealTimers();
});

function setup(): { membership: Membership; detector: FailureDetector } {
  const membership = new Membership({ now });
  return { membership, detector: new FailureDetector(membership, { failureTimeoutMs: TIMEOUT }) };
}

describe('FailureDetector.check', () => {
  it('declares a member dead once it has been silent for the failure timeout, not before', () => {
    const { membership, detector } = setup();
    membership.register('127.0.0.1:5001');
    t = TIMEOUT - 1;
    expect(detector.check()).toEqual([]);
    expect(membership.ring.has('127.0.0.1:5001')).toBe(true);
    t = TIMEOUT;
    expect(detector.check()).toEqual([
      {
        kind: 'died',
        member: { id: '127.0.0.1:5001', zone: '', weight: 1 },
        silentMs: TIMEOUT,
        epoch: 2,
      },
    ]);
    expect(membership.ring.size).toBe(0);
    expect(membership.epoch).toBe(2);
    expect(detector.check()).toEqual([]);
  });

  it('keeps members that heartbeat, however long they live', () => {
    const { membership, detector } = setup();
    membership.register('127.0.0.1:5001');
    membership.register('127.0.0.1:5002');
    for (let i = 0; i < 100; i++) {
      t += 1000;
      membership.heartbeat('127.0.0.1:5001');
      if (i < 3) membership.heartbeat('127.0.0.1:5002');
      detector.check();
    }
    expect(membership.list(true).map((s) => [s.id, s.state])).toEqual([
      ['127.0.0.1:5001', 'up'],
      ['127.0.0.1:5002', 'dead'],
    ]);
    expect(membership.epoch).toBe(3);
  });

  it('removes several silent members in one check, oldest silence first, one epoch each', () => {
    const { membership, detector } = setup();
    membership.register('127.0.0.1:5003');
    t = 100;
    membership.register('127.0.0.1:5001');
    t = 200;
    membership.register('127.0.0.1:5002');
    t = 300;
    // Four members still heard from: a majority, so the three silent ones are dead.
    const alive = ['127.0.0.1:5004', '127.0.0.1:5005', '127.0.0.1:5006', '127.0.0.1:5007'];
    for (const id of alive) membership.register(id);
    t = 100_000;
    for (const id of alive) membership.heartbeat(id);
    const changes = detector.check();
    expect(changes.map((c) => [c.member.id, c.epoch])).toEqual([
      ['127.0.0.1:5003', 8],
      ['127.0.0.1:5001', 9],
      ['127.0.0.1:5002', 10],
    ]);
    expect(membership.ring.members.map((m) => m.id)).toEqual(alive);
  });

  it('declares nobody dead while most members fell silent together, and resumes after', () => {
    const membership = new Membership({ now });
    const held: [number, number][] = [];
    let resumed = 0;
    const detector = new FailureDetector(membership, {
      failureTimeoutMs: TIMEOUT,
      onHold: (silent, members) => held.push([silent, members]),
      onResume: () => resumed++,
    });
    const ids = [
      '127.0.0.1:5001',
      '127.0.0.1:5002',
      '127.0.0.1:5003',
      '127.0.0.1:5004',
      '127.0.0.1:5005',
    ];
    for (const id of ids) membership.register(id);
    // This coordinator and one node are cut off from the other four.
    for (t = 1000; t <= 30_000; t += 1000) {
      membership.heartbeat('127.0.0.1:5001');
      expect(detector.check()).toEqual([]);
    }
    expect(detector.holdingBack).toBe(true);
    expect(held).toEqual([[4, 5]]);
    expect(membership.ring.size).toBe(5);
    expect(membership.epoch).toBe(5);

    // The partition heals: all heard again, then one member fails alone and is declared.
    for (const id of ids) membership.heartbeat(id);
    expect(detector.check()).toEqual([]);
    expect(resumed).toBe(1);
    for (let i = 0; i < 5; i++) {
      t += 1000;
      for (const id of ids.slice(0, 4)) membership.heartbeat(id);
      detector.check();
    }
    expect(membership.list(true).find((s) => s.id === '127.0.0.1:5005')?.state).toBe('dead');
    expect(membership.ring.size).toBe(4);
    expect(held).toHaveLength(1);
  });

  it('judges the majority among serving members: joining ones neither hold nor outvote', () => {
    const { membership, detector } = setup();
    const serving = ['127.0.0.1:5001', '127.0.0.1:5002', '127.0.0.1:5003'];
    for (const id of serving) membership.register(id);
    // Four nodes still joining (in the target ring only) stay heard on this side.
    const joiners = ['127.0.0.1:6001', '127.0.0.1:6002', '127.0.0.1:6003', '127.0.0.1:6004'];
    for (const id of joiners) membership.register(id, { joining: true });
    // Two of the three serving members fall silent together: hold, whatever the joiners say.
    for (t = 1000; t <= 20_000; t += 1000) {
      membership.heartbeat('127.0.0.1:5001');
      for (const id of joiners) membership.heartbeat(id);
      expect(detector.check()).toEqual([]);
    }
    expect(detector.holdingBack).toBe(true);
    expect(membership.ring.size).toBe(3);
  });

  it('holds when the coordinator hears nobody, instead of emptying the ring', () => {
    const { membership, detector } = setup();
    for (const id of ['127.0.0.1:5001', '127.0.0.1:5002', '127.0.0.1:5003'])
      membership.register(id);
    t = 60_000;
    expect(detector.check()).toEqual([]);
    expect(membership.ring.size).toBe(3);
  });

  it('declares members that fail one after another, down to the last', () => {
    const { membership, detector } = setup();
    const ids = ['127.0.0.1:5001', '127.0.0.1:5002', '127.0.0.1:5003'];
    for (const id of ids) membership.register(id);
    // 5003 stops first; 5002 a whole failure timeout later; 5001 keeps heartbeating.
    for (let i = 1; i <= 20; i++) {
      t = i * 1000;
      membership.heartbeat('127.0.0.1:5001');
      if (i <= 8) membership.heartbeat('127.0.0.1:5002');
      detector.check();
    }
    expect(membership.ring.members.map((m) => m.id)).toEqual(['127.0.0.1:5001']);
    expect(detector.holdingBack).toBe(false);
  });

  it('makes a dead node that heartbeats re-register, which readmits it as a fresh join', () => {
    const { membership, detector } = setup();
    membership.register('127.0.0.1:5001', { zone: 'a' });
    t = TIMEOUT;
    detector.check();
    expect(() => membership.heartbeat('127.0.0.1:5001')).toThrow(NotRegisteredError);
    const rejoin = membership.register('127.0.0.1:5001', { zone: 'a' });
    expect(rejoin.change?.kind).toBe('joined');
    expect(rejoin.epoch).toBe(3);
    t += TIMEOUT - 1;
    expect(detector.check()).toEqual([]);
  });

  it('gives restored members one failure timeout from the restore to heartbeat', () => {
    const { membership } = setup();
    membership.register('127.0.0.1:5001');
    membership.register('127.0.0.1:5002');
    const state = membership.toState();

    t = 1_000_000;
    const restored = Membership.restore(state, { now });
    const detector = new FailureDetector(restored, { failureTimeoutMs: TIMEOUT });
    expect(detector.check()).toEqual([]);
    t += TIMEOUT - 1000;
    restored.heartbeat('127.0.0.1:5002');
    t += 1000;
    expect(detector.check().map((c) => [c.kind, c.member.id, c.epoch])).toEqual([
      ['died', '127.0.0.1:5001', 3],
    ]);
    expect(restored.list(true).map((s) => [s.id, s.state])).toEqual([
      ['127.0.0.1:5001', 'dead'],
      ['127.0.0.1:5002', 'up'],
    ]);
  });
});

/** A detector on jest's fake timers (200 ms timeout, checks every 20 ms) recording what it reports. */
function timed(): {
  membership: Membership;
  detector: FailureDetector;
  changes: MembershipChange[];
  errors: unknown[];
  stalls: number[];
} {
  jest.useFakeTimers();
  const membership = new Membership({ now: () => Date.now() });
  const reported = {
    changes: [] as MembershipChange[],
    errors: [] as unknown[],
    stalls: [] as number[],
  };
  const detector = new FailureDetector(membership, {
    failureTimeoutMs: 200,
    checkIntervalMs: 20,
    onChange: (change) => reported.changes.push(change),
    onError: (err) => reported.errors.push(err),
    onStall: (ms) => reported.stalls.push(ms),
  });
  return { membership, detector, ...reported };
}

describe('FailureDetector.start', () => {
  it('checks on a timer and reports each death', () => {
    const { membership, detector, changes, stalls } = timed();
    membership.register('127.0.0.1:5001');
    detector.start();
    jest.advanceTimersByTime(180);
    expect(changes).toEqual([]);
    jest.advanceTimersByTime(40);
    expect(changes.map((c) => c.kind)).toEqual(['died']);
    detector.stop();
    membership.register('127.0.0.1:5001');
    jest.advanceTimersByTime(1000);
    expect(changes).toHaveLength(1);
    expect(stalls).toEqual([]);
  });

  it('reports an exception in a check and keeps checking', () => {
    const { membership, detector, changes, errors } = timed();
    membership.register('127.0.0.1:5001');
    jest.spyOn(membership, 'silence').mockImplementationOnce(() => {
      throw new Error('boom');
    });
    detector.start();
    jest.advanceTimersByTime(300);
    detector.stop();
    expect(errors).toEqual([new Error('boom')]);
    expect(changes.map((c) => c.kind)).toEqual(['died']);
  });

  it('does not count time in which it could not run against the members', () => {
    const { membership, detector, changes, stalls } = timed();
    membership.register('127.0.0.1:5001');
    detector.start();
    jest.advanceTimersByTime(100);
    // The process is paused for 10 s: the clock moves on, no timer runs, no heartbeat is read.
    jest.setSystemTime(Date.now() + 10_000);
    jest.advanceTimersByTime(20);
    expect(stalls).toEqual([10_000]);
    expect(changes).toEqual([]);
    expect(membership.silence()).toEqual([{ id: '127.0.0.1:5001', silentMs: 120 }]);
    // Silence after the pause still counts.
    jest.advanceTimersByTime(80);
    expect(changes.map((c) => c.kind)).toEqual(['died']);
    detector.stop();
  });

  it('does not keep the process alive', () => {
    const membership = new Membership();
    const detector = new FailureDetector(membership, { failureTimeoutMs: 200 });
    detector.start();
    const timer = (detector as unknown as { timer: NodeJS.Timeout }).timer;
    expect(timer.hasRef()).toBe(false);
    detector.stop();
  });
});

describe('checkIntervalFor', () => {
  it('checks every half heartbeat interval or tenth of the timeout, whichever is shorter', () => {
    expect(checkIntervalFor(1000, 5000)).toBe(500);
    expect(checkIntervalFor(1000, 2000)).toBe(200);
    expect(checkIntervalFor(50, 200)).toBe(20);
    expect(checkIntervalFor(1, 2)).toBe(5);
  });
});
