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
  // The monotonic clock that ages samples; each sample is recorded when it comes back.
  let t = 0;
  const monitorOf = (maxAgeMs?: number): ClockOffsetMonitor =>
    new ClockOffsetMonitor({ maxOffsetMs: BOUND, maxAgeMs, monotonic: () => t });
  const feed = (m: ClockOffsetMonitor, source: string, s: ReturnType<typeof sample>): void => {
    t = s.receivedAt;
    m.record(source, s);
  };
  const verdictAt = (m: ClockOffsetMonitor, at: number) => {
    t = at;
    return m.verdict();
  };

  beforeEach(() => {
    t = 0;
  });

  it('is not fenced, and not measured, before any sample; nor fenced within the bound', () => {
    const m = monitorOf();
    expect(verdictAt(m, 0)).toMatchObject({ fenced: false, measured: false });
    feed(m, 'coordinator', sample(1000, 400));
    feed(m, '127.0.0.1:5002', sample(1000, -450));
    expect(verdictAt(m, 1002)).toMatchObject({
      fenced: false,
      measured: true,
      sources: 2,
      beyond: 0,
    });
  });

  it('fences a node 120 s ahead of the others, and reports its offset', () => {
    const m = monitorOf();
    // Every other clock reads 120 s behind ours.
    for (const source of ['coordinator', '127.0.0.1:5002', '127.0.0.1:5003'])
      feed(m, source, sample(1000, -120_000));
    expect(verdictAt(m, 1002)).toMatchObject({
      fenced: true,
      offsetMs: 120_000,
      sources: 3,
      beyond: 3,
    });
  });

  it('follows the majority when one source is itself off', () => {
    const m = monitorOf();
    feed(m, 'coordinator', sample(1000, 3000));
    feed(m, '127.0.0.1:5002', sample(1000, 10));
    feed(m, '127.0.0.1:5003', sample(1000, -20));
    expect(verdictAt(m, 1002)).toMatchObject({ fenced: false, beyond: 1 });
  });

  it('does not fence on a slow round trip that cannot tell', () => {
    const m = monitorOf();
    // 700 ms off, but measured over a 600 ms round trip: within the bound plus uncertainty.
    feed(m, 'coordinator', { sentAt: 0, remoteAt: 1000, receivedAt: 600 });
    expect(verdictAt(m, 600).fenced).toBe(false);
  });

  it('keeps the most precise recent sample of a source', () => {
    const m = monitorOf(10_000);
    feed(m, 'coordinator', sample(1000, -2000, 2));
    // A later, sloppier sample that agrees, within half the age limit, does not replace it.
    feed(m, 'coordinator', { sentAt: 2000, remoteAt: 500, receivedAt: 3000 });
    expect(verdictAt(m, 3000)).toMatchObject({ fenced: true, offsetMs: 2000 });
    // Past half the age limit, a fresh sample replaces it, precise or not.
    feed(m, 'coordinator', sample(7000, 0, 4));
    expect(verdictAt(m, 7004)).toMatchObject({ fenced: false, offsetMs: 0 });
  });

  it('replaces a precise sample at once when a new one disagrees with it: a clock stepped', () => {
    const m = monitorOf(10_000);
    feed(m, 'coordinator', sample(1000, 0, 2));
    expect(verdictAt(m, 1002).fenced).toBe(false);
    // One second later our wall clock jumped 60 s ahead; the sample is sloppier but certain.
    feed(m, 'coordinator', sample(2000, -60_000, 40));
    expect(verdictAt(m, 2040)).toMatchObject({ fenced: true, offsetMs: 60_000 });
  });

  it('ages samples on its own monotonic clock, whatever the wall clock being judged does', () => {
    const m = monitorOf(10_000);
    // Wall-clock readings far in the past or future do not make a sample fresh or stale.
    t = 0;
    m.record('coordinator', { sentAt: 9e12, remoteAt: 9e12 - 120_000 + 1, receivedAt: 9e12 + 2 });
    t = 5000;
    expect(m.verdict()).toMatchObject({ fenced: true, sources: 1 });
    t = 5000 + 10_001;
    expect(m.verdict()).toMatchObject({ fenced: true, sources: 0 });
  });

  it('keeps a fenced node fenced while it has no fresh measurement, and lifts it on one', () => {
    const m = monitorOf(10_000);
    feed(m, 'coordinator', sample(1000, -120_000));
    expect(verdictAt(m, 1002).fenced).toBe(true);
    // Cut off: nothing new for a minute.
    expect(verdictAt(m, 61_000)).toMatchObject({ fenced: true, sources: 0 });
    feed(m, 'coordinator', sample(61_000, 100));
    expect(verdictAt(m, 61_002).fenced).toBe(false);
  });

  it('forgets a source that left', () => {
    const m = monitorOf();
    feed(m, '127.0.0.1:5002', sample(1000, -5000));
    feed(m, '127.0.0.1:5003', sample(1000, 0));
    feed(m, '127.0.0.1:5004', sample(1000, -5000));
    m.forget('127.0.0.1:5004');
    expect(verdictAt(m, 1002)).toMatchObject({ fenced: false, sources: 2, beyond: 1 });
  });
});
