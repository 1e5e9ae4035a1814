import { startedByNpm, watchParent } from './parent-watch';

describe('watchParent', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('calls back once when the parent process id changes, and not before', () => {
    let parent = 100;
    const calls: number[] = [];
    watchParent(
      () => calls.push(parent),
      () => parent,
      5,
    );
    jest.advanceTimersByTime(50);
    expect(calls).toEqual([]);
    parent = 1;
    jest.advanceTimersByTime(5);
    parent = 7;
    jest.advanceTimersByTime(50);
    expect(calls).toEqual([1]);
  });

  it('stops watching when asked', () => {
    let parent = 100;
    const calls: number[] = [];
    const stop = watchParent(
      () => calls.push(parent),
      () => parent,
      5,
    );
    stop();
    parent = 1;
    jest.advanceTimersByTime(50);
    expect(calls).toEqual([]);
  });
});

describe('startedByNpm', () => {
  it('reads npm_command', () => {
    expect(startedByNpm({ npm_command: 'exec' })).toBe(true);
    expect(startedByNpm({})).toBe(false);
  });
});
