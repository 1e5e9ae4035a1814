import { LoopWatch, earliestArrival } from './loop-watch';

describe('earliestArrival', () => {
  it('is now while the loop ran on time', () => {
    expect(earliestArrival(1000, 960, 50)).toBe(1000);
    expect(earliestArrival(1000, 900, 50)).toBe(1000);
  });

  it('is the last sign of life after a pause or a blocked loop', () => {
    expect(earliestArrival(10_000, 1000, 50)).toBe(1000);
  });
});

describe('LoopWatch', () => {
  it('measures how long bytes read after a pause may have waited', async () => {
    let t = 0;
    const watch = new LoopWatch(() => t, 50);
    t = 40;
    watch.tick();
    t = 80;
    expect(watch.waited()).toBe(0);
    // SIGSTOP for 5 s: the first read after SIGCONT runs before the timer does.
    t = 5080;
    expect(watch.waited()).toBe(5040);
    expect(watch.arrival()).toBe(40);
    // The timer catches up; once the loop polled and two ticks later, reads are judged as
    // arriving now again.
    watch.tick();
    await new Promise((resolve) => setImmediate(resolve));
    t = 5130;
    watch.tick();
    t = 5181;
    expect(watch.waited()).toBe(0);
  });

  it('ticks on its timer until stopped', () => {
    jest.useFakeTimers();
    try {
      let t = 0;
      const stalls: number[] = [];
      const watch = new LoopWatch(
        () => t,
        50,
        (ms) => stalls.push(ms),
        10,
      );
      watch.start();
      t = 30;
      jest.advanceTimersByTime(50);
      expect(stalls).toEqual([30]);
      expect(jest.getTimerCount()).toBe(1);
      watch.stop();
      expect(jest.getTimerCount()).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });

  it('sees a blocked loop through real time', () => {
    const watch = new LoopWatch(undefined, 5);
    watch.start();
    const until = performance.now() + 40;
    while (performance.now() < until) {
      // Busy: the timer cannot run.
    }
    expect(watch.waited()).toBeGreaterThanOrEqual(30);
    watch.stop();
  });

  it('reports, from its timer, a stall longer than the threshold', () => {
    let t = 0;
    const stalls: number[] = [];
    const watch = new LoopWatch(
      () => t,
      50,
      (ms) => stalls.push(ms),
      1000,
    );
    t = 50;
    watch.tick();
    t = 900;
    watch.tick();
    expect(stalls).toEqual([]);
    t = 6900;
    watch.tick();
    expect(stalls).toEqual([6000]);
  });

  it('judges reads after the tick which saw a stall by it until the loop polled, however slow its timers', async () => {
    let t = 0;
    const watch = new LoopWatch(() => t, 50);
    t = 40;
    watch.tick();
    t = 6040;
    watch.tick();
    // The other timers of the same turn (a sync round starting, say) take 400 ms, on a busy
    // machine: the sockets are not polled before they end.
    t = 6440;
    expect(watch.waited()).toBe(6400);
    await new Promise((resolve) => setImmediate(resolve));
    // Polled: judged by the last tick again, not by the stall.
    t = 6441;
    expect(watch.waited()).toBe(401);
  });

  it('judges reads that follow the tick which saw a stall by that stall, for two ticks', async () => {
    let t = 0;
    const watch = new LoopWatch(() => t, 50);
    t = 40;
    watch.tick();
    // Stopped while running code: on SIGCONT the timer runs first, then the reads.
    t = 6040;
    watch.tick();
    t = 6041;
    expect(watch.waited()).toBe(6001);
    expect(watch.arrival()).toBe(40);
    await new Promise((resolve) => setImmediate(resolve));
    t = 6089;
    watch.tick();
    t = 6140;
    expect(watch.waited()).toBe(6100);
    t = 6141;
    expect(watch.waited()).toBe(0);
  });
});
