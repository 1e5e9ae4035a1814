import { ConnectionTimeouts, type ConnectionProgress } from './peer-progress';

const at = (p: Partial<ConnectionProgress> = {}): ConnectionProgress => ({
  received: 0,
  bytesIn: 0,
  taken: 0,
  owing: false,
  idle: true,
  ...p,
});

/** A monotonic clock's reading some time after the process started (never 0). */
const T = 5000;

describe('ConnectionTimeouts', () => {
  it('finds a connection idle once the idle timeout passes with no byte received or taken', () => {
    const timeouts = new ConnectionTimeouts(0, 100);
    expect(timeouts.expired(T + 0, at())).toBeUndefined();
    expect(timeouts.expired(T + 99, at())).toBeUndefined();
    expect(timeouts.expired(T + 100, at())).toBe('idle');
  });

  it('starts the idle period again at each byte received or reply byte taken', () => {
    const timeouts = new ConnectionTimeouts(0, 100);
    timeouts.expired(T + 0, at());
    // A byte of a request: not idle until 100 ms after the check that saw it.
    expect(timeouts.expired(T + 90, at({ bytesIn: 1 }))).toBeUndefined();
    expect(timeouts.expired(T + 180, at({ bytesIn: 1 }))).toBeUndefined();
    expect(timeouts.expired(T + 190, at({ bytesIn: 1, taken: 5 }))).toBeUndefined();
    expect(timeouts.expired(T + 289, at({ bytesIn: 1, taken: 5 }))).toBeUndefined();
    expect(timeouts.expired(T + 290, at({ bytesIn: 1, taken: 5 }))).toBe('idle');
  });

  it('never finds idle a connection with something in flight, however long', () => {
    const timeouts = new ConnectionTimeouts(0, 100);
    for (const now of [0, 100, 1000, 10_000])
      expect(timeouts.expired(T + now, at({ idle: false }))).toBeUndefined();
    // Idle from here: the period starts now, not when the command did.
    expect(timeouts.expired(T + 10_050, at())).toBeUndefined();
    expect(timeouts.expired(T + 10_150, at())).toBe('idle');
  });

  it('finds the request timeout past when the peer owes something without progress, before idleness', () => {
    const timeouts = new ConnectionTimeouts(100, 100);
    expect(timeouts.expired(T + 0, at({ owing: true }))).toBeUndefined();
    // Bytes keep coming but no request completes: that is no progress for the request timeout.
    expect(timeouts.expired(T + 100, at({ owing: true, bytesIn: 7 }))).toBe('request');
    // Past both at once: the request timeout is the one reported (its peer gets -TIMEOUT).
    const both = new ConnectionTimeouts(100, 100);
    expect(both.expired(T, at({ owing: true }))).toBeUndefined();
    expect(both.expired(T + 100, at({ owing: true }))).toBe('request');
  });

  it('checks neither timeout when both are off', () => {
    const timeouts = new ConnectionTimeouts(0, 0);
    expect(timeouts.expired(T + 0, at({ owing: true }))).toBeUndefined();
    expect(timeouts.expired(1e9, at({ owing: true }))).toBeUndefined();
  });
});
