import { CLEAR_SCREEN, watchStatus } from './status-watch';

describe('watchStatus', () => {
  const at = (): Date => new Date('2026-01-02T03:04:05Z');

  it('redraws the table over the last one, pausing the interval between refreshes', async () => {
    const screens: string[] = [];
    const pauses: number[] = [];
    let refresh = 0;
    await watchStatus({
      render: () => Promise.resolve([`table ${++refresh}`]),
      write: (text) => screens.push(text),
      intervalMs: 2000,
      iterations: 3,
      sleep: (ms) => {
        pauses.push(ms);
        return Promise.resolve();
      },
      now: at,
    });
    expect(screens).toEqual(
      [1, 2, 3].map(
        (n) =>
          `${CLEAR_SCREEN}kv status at 03:04:05 UTC, every 2 s; Ctrl-C to stop\n\ntable ${n}\n`,
      ),
    );
    expect(pauses).toEqual([2000, 2000]);
  });

  it('shows why a refresh failed and keeps going', async () => {
    const screens: string[] = [];
    let refresh = 0;
    await watchStatus({
      render: () =>
        ++refresh === 1
          ? Promise.reject(new Error('cannot reach coordinator at 127.0.0.1:5000'))
          : Promise.resolve(['back']),
      write: (text) => screens.push(text),
      intervalMs: 10,
      iterations: 2,
      clear: false,
      sleep: () => Promise.resolve(),
    });
    expect(screens).toEqual([
      'cannot refresh: cannot reach coordinator at 127.0.0.1:5000; retrying\n',
      'back\n',
    ]);
  });

  it('stops when aborted, also in the middle of a pause', async () => {
    const controller = new AbortController();
    const screens: string[] = [];
    const watching = watchStatus({
      render: () => Promise.resolve(['t']),
      write: (text) => screens.push(text),
      intervalMs: 60_000,
      clear: false,
      signal: controller.signal,
    });
    await new Promise((resolve) => setImmediate(resolve));
    controller.abort();
    await watching;
    expect(screens).toEqual(['t\n']);
  });
});
