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
    membership.register('127.0.0.1:5004');
    t = 100_000;
    membership.heartbeat('127.0.0.1:5004');
    const changes = detector.check();
    expect(changes.map((c) => [c.member.id, c.epoch])).toEqual([
      ['127.0.0.1:5003', 5],
      ['127.0.0.1:5001', 6],
      ['127.0.0.1:5002', 7],
    ]);
    expect(membership.ring.members.map((m) => m.id)).toEqual(['127.0.0.1:5004']);
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
    t += 1000;
    restored.heartbeat('127.0.0.1:5002');
    t += TIMEOUT - 1000;
    expect(detector.check().map((c) => [c.kind, c.member.id, c.epoch])).toEqual([
      ['died', '127.0.0.1:5001', 3],
    ]);
    expect(restored.list(true).map((s) => [s.id, s.state])).toEqual([
      ['127.0.0.1:5001', 'dead'],
      ['127.0.0.1:5002', 'up'],
    ]);
  });
});

describe('FailureDetector.start', () => {
  it('checks on a timer and reports each death', () => {
    jest.useFakeTimers();
    const membership = new Membership({ now: () => Date.now() });
    const changes: MembershipChange[] = [];
    const detector = new FailureDetector(membership, {
      failureTimeoutMs: 200,
      checkIntervalMs: 20,
      onChange: (change) => changes.push(change),
    });
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
  });

  it('reports an exception in a check and keeps checking', () => {
    jest.useFakeTimers();
    const membership = new Membership({ now: () => Date.now() });
    const errors: unknown[] = [];
    const changes: MembershipChange[] = [];
    const detector = new FailureDetector(membership, {
      failureTimeoutMs: 200,
      checkIntervalMs: 20,
      onChange: (change) => changes.push(change),
      onError: (err) => errors.push(err),
    });
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
