import { retryDelay, sleep } from './backoff';

describe('retryDelay', () => {
  it('doubles from the base and stays between half and all of the delay', () => {
    expect(retryDelay(0, 100, 2000, () => 0)).toBe(50);
    expect(retryDelay(0, 100, 2000, () => 1)).toBe(100);
    expect(retryDelay(3, 100, 2000, () => 1)).toBe(800);
    expect(retryDelay(3, 100, 2000, () => 0.5)).toBe(600);
  });

  it('never exceeds the cap', () => {
    expect(retryDelay(40, 100, 2000, () => 1)).toBe(2000);
    expect(retryDelay(40, 100, 2000, () => 0)).toBe(1000);
  });
});

describe('sleep', () => {
  it('resolves after the delay', async () => {
    await expect(sleep(1)).resolves.toBeUndefined();
  });

  it('rejects with the abort reason when aborted, before or during', async () => {
    const aborted = new AbortController();
    aborted.abort(new Error('stop'));
    await expect(sleep(10_000, aborted.signal)).rejects.toThrow('stop');
    const later = new AbortController();
    const pending = sleep(10_000, later.signal);
    later.abort(new Error('later'));
    await expect(pending).rejects.toThrow('later');
  });
});
