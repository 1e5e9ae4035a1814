import fc from 'fast-check';
import { HybridLogicalClock, LOGICAL_BITS, wallOf } from './hlc';

describe('HybridLogicalClock', () => {
  it('follows the wall clock when it moves forward', () => {
    let wall = 1_000;
    const clock = new HybridLogicalClock(() => wall);
    const a = clock.now();
    wall = 2_000;
    const b = clock.now();
    expect(wallOf(a)).toBe(1_000);
    expect(wallOf(b)).toBe(2_000);
  });

  it('counts within one millisecond and borrows the next when the counter is full', () => {
    const clock = new HybridLogicalClock(() => 5);
    const stamps = Array.from({ length: 2 ** LOGICAL_BITS + 3 }, () => clock.now());
    for (let i = 1; i < stamps.length; i++)
      expect(stamps[i]).toBeGreaterThan(stamps[i - 1] as number);
    expect(wallOf(stamps[stamps.length - 1] as number)).toBe(6);
  });

  it('never goes backwards when the wall clock does', () => {
    let wall = 10_000;
    const clock = new HybridLogicalClock(() => wall);
    const before = clock.now();
    wall = 1_000;
    expect(clock.now()).toBeGreaterThan(before);
  });

  it('orders after every observed timestamp even when its wall clock is behind (skew)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({
              kind: fc.constant('now' as const),
              wall: fc.integer({ min: 0, max: 1e9 }),
            }),
            fc.record({
              kind: fc.constant('observe' as const),
              ts: fc.integer({ min: 0, max: 2 ** 50 }),
            }),
          ),
          {
            maxLength: 60,
          },
        ),
        (steps) => {
          let wall = 0;
          const clock = new HybridLogicalClock(() => wall);
          let highest = 0;
          for (const step of steps) {
            if (step.kind === 'observe') {
              clock.observe(step.ts);
              highest = Math.max(highest, step.ts);
            } else {
              wall = step.wall;
              const ts = clock.now();
              expect(ts).toBeGreaterThan(highest);
              highest = ts;
            }
          }
        },
      ),
    );
  });

  it('ignores values that are not safe integers', () => {
    const clock = new HybridLogicalClock(() => 1);
    clock.observe(Number.NaN);
    clock.observe(2 ** 60);
    expect(clock.now()).toBe(1 * 2 ** LOGICAL_BITS);
  });

  it('does not adopt a timestamp further ahead than the bound, nor one near 2^53', () => {
    const wall = 1_700_000_000_000;
    const clock = new HybridLogicalClock(() => wall, 500);
    const near = (wall + 400) * 2 ** LOGICAL_BITS;
    const far = (wall + 120_000) * 2 ** LOGICAL_BITS;
    expect(clock.admits(near)).toBe(true);
    expect(clock.admits(far)).toBe(false);
    expect(clock.admits(Number.MAX_SAFE_INTEGER)).toBe(false);
    expect(clock.admits(2 ** 60)).toBe(false);
    expect(clock.admits(-1)).toBe(false);
    clock.observe(far);
    clock.observe(Number.MAX_SAFE_INTEGER - 1);
    expect(wallOf(clock.now())).toBe(wall);
    clock.observe(near);
    expect(clock.now()).toBe(near + 1);
    expect(clock.aheadMs(far)).toBe(120_000);
  });
});
