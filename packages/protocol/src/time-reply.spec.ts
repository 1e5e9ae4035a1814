import { parseTimeReply, timeReply } from './time-reply';

describe('TIME replies', () => {
  it('round-trips a wall clock reading through seconds and microseconds', () => {
    expect(timeReply(1_700_000_000_123.5)).toEqual(['1700000000', '123500']);
    const wire = timeReply(1_700_000_000_123.5).map((s) => Buffer.from(s));
    expect(parseTimeReply(wire)).toBe(1_700_000_000_123.5);
  });

  it('rejects what is not a TIME reply', () => {
    expect(parseTimeReply(null)).toBeUndefined();
    expect(parseTimeReply([Buffer.from('1')])).toBeUndefined();
    expect(parseTimeReply([Buffer.from('x'), Buffer.from('1')])).toBeUndefined();
  });
});
