import fc from 'fast-check';
import { ClockOffsetMonitor, estimate } from './clock-offset';

const BOUND = 500;

/** A sample of a source whose clock is `skew` ms ahead of ours, over a `rtt` ms round trip. */
function sample(at: number, skew: number, rtt = 2) {
  return { sentAt: at, remoteAt: at + rtt / 2 + skew, receivedAt: at + rtt };
}

describe('estimate', () => {
  it('places the remote reading at the middle of the round trip', () => {
    expect(estimate({ sentAt: 1000, remoteAt: 1105, receivedAt: 1010 })).toEqual({
      offsetMs: 100,
      uncertaintyMs: 5,
      at: 1010,
    });
  });

  it('rejects a sample whose round trip went backwards', () => {
    expect(estimate({ sentAt: 1000, remoteAt: 1000, receivedAt: 999 })).toBeUndefined();
    expect(estimate({ sentAt: 1000, remoteAt: Number.NaN, receivedAt: 1001 })).toBeUndefined();
  });

  it('bounds the true offset by the uncertainty for any reading inside the round trip', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1e6 }),
        fc.integer({ min: 0, max: 5000 }),
        fc.integer({ min: -1e6, max: 1e6 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (sentAt, rtt, skew, where) => {
          const remoteAt = sentAt + rtt * where + skew;
          const e = estimate({ sentAt, remoteAt, receivedAt: sentAt + rtt });
          expect(Math.abs((e?.offsetMs ?? Infinity) - skew)).toBeLessThanOrEqual(
            (e?.uncertaintyMs ?? 0) + 1e-6,
          );
        },
      ),
    );
  });
});

describe('ClockOffsetMonitor', () => {
  it('is not fenced before any measurement, nor while within the bound', () => {
    const m = new ClockOffsetMonitor({ maxOffsetMs: BOUND });
    expect(m.verdict(0).fenced).toBe(false);
    m.record('coordinator', sample(1000, 400));
    m.record('127.0.0.1:5002', sample(1000, -450));
    expect(m.verdict(1002)).toMatchObject({ fenced: false, sources: 2, beyond: 0 });
  });

  it('fences a node 120 s ahead of the others, and reports its offset', () => {
    const m = new ClockOffsetMonitor({ maxOffsetMs: BOUND });
    // Every other clock reads 120 s behind ours.
    for (const source of ['coordinator', '127.0.0.1:5002', '127.0.0.1:5003'])
      m.record(source, sample(1000, -120_000));
    expect(m.verdict(1002)).toMatchObject({
      fenced: true,
      offsetMs: 120_000,
      sources: 3,
      beyond: 3,
    });
  });

  it('follows the majority when one source is itself off', () => {
    const m = new ClockOffsetMonitor({ maxOffsetMs: BOUND });
    m.record('coordinator', sample(1000, 3000));
    m.record('127.0.0.1:5002', sample(1000, 10));
    m.record('127.0.0.1:5003', sample(1000, -20));
    expect(m.verdict(1002)).toMatchObject({ fenced: false, beyond: 1 });
  });

  it('does not fence on a slow round trip that cannot tell', () => {
    const m = new ClockOffsetMonitor({ maxOffsetMs: BOUND });
    // 700 ms off, but measured over a 600 ms round trip: within the bound plus uncertainty.
    m.record('coordinator', { sentAt: 0, remoteAt: 1000, receivedAt: 600 });
    expect(m.verdict(600).fenced).toBe(false);
  });

  it('keeps the most precise recent sample of a source', () => {
    const m = new ClockOffsetMonitor({ maxOffsetMs: BOUND, maxAgeMs: 10_000 });
    m.record('coordinator', sample(1000, -2000, 2));
    // A later, sloppier sample within half the age limit does not replace it.
    m.record('coordinator', { sentAt: 2000, remoteAt: 2000, receivedAt: 3000 });
    expect(m.verdict(3000)).toMatchObject({ fenced: true, offsetMs: 2000 });
    // Past half the age limit, a fresh sample replaces it, precise or not.
    m.record('coordinator', sample(7000, 0, 4));
    expect(m.verdict(7004)).toMatchObject({ fenced: false, offsetMs: 0 });
  });

  it('keeps a fenced node fenced while it has no fresh measurement, and lifts it on one', () => {
    const m = new ClockOffsetMonitor({ maxOffsetMs: BOUND, maxAgeMs: 10_000 });
    m.record('coordinator', sample(1000, -120_000));
    expect(m.verdict(1002).fenced).toBe(true);
    // Cut off: nothing new for a minute.
    expect(m.verdict(61_000)).toMatchObject({ fenced: true, sources: 0 });
    m.record('coordinator', sample(61_000, 100));
    expect(m.verdict(61_002).fenced).toBe(false);
  });

  it('forgets a source that left', () => {
    const m = new ClockOffsetMonitor({ maxOffsetMs: BOUND });
    m.record('127.0.0.1:5002', sample(1000, -5000));
    m.record('127.0.0.1:5003', sample(1000, 0));
    m.record('127.0.0.1:5004', sample(1000, -5000));
    m.forget('127.0.0.1:5004');
    expect(m.verdict(1002)).toMatchObject({ fenced: false, sources: 2, beyond: 1 });
  });
});
