import { Throttle } from './throttle';

describe('Throttle', () => {
  it('lets a second of bytes through at once, then holds the rate', () => {
    let t = 0;
    const throttle = new Throttle(1000, () => t);
    expect(throttle.delayFor(600)).toBe(0);
    expect(throttle.delayFor(400)).toBe(0);
    expect(throttle.delayFor(500)).toBe(500);
    t = 500;
    expect(throttle.delayFor(0)).toBe(0);
    expect(throttle.delayFor(250)).toBe(250);
  });

  it('does not bank more than one second of idle time', () => {
    let t = 0;
    const throttle = new Throttle(100, () => t);
    t = 60_000;
    expect(throttle.delayFor(100)).toBe(0);
    expect(throttle.delayFor(100)).toBe(1000);
  });

  it('never waits when unlimited', async () => {
    const throttle = new Throttle(0);
    expect(throttle.delayFor(1e12)).toBe(0);
    await expect(throttle.take(1e12)).resolves.toBeUndefined();
  });
});
