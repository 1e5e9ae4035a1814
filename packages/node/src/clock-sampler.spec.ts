import { ReplyError, timeReply, type CommandArg, type RespValue } from '@kv/protocol';
import { ClockOffsetMonitor } from './clock-offset';
import { ClockSampler } from './clock-sampler';

describe('ClockSampler', () => {
  /** Members whose clocks differ from ours by the given offsets; each answer takes 4 ms. */
  function setup(offsets: Record<string, number | 'down' | 'error'>) {
    let t = 1_700_000_000_000;
    const sent: string[] = [];
    const monitor = new ClockOffsetMonitor({ maxOffsetMs: 500, monotonic: () => t });
    const sampler = new ClockSampler({
      monitor,
      now: () => t,
      send: async (target: string, args: CommandArg[]): Promise<RespValue> => {
        sent.push(`${target} ${args.join(' ')}`);
        const offset = offsets[target];
        if (offset === 'down') throw new Error('ECONNREFUSED');
        if (offset === 'error') throw new ReplyError('ERR unknown command');
        t += 2;
        const reply = timeReply(t + (offset ?? 0)).map((s) => Buffer.from(s));
        // The answer travels back while the loop turns.
        await Promise.resolve();
        t += 2;
        return reply;
      },
    });
    return { monitor, sampler, sent };
  }

  it('fences this node when the coordinator and the peers all read 120 s behind it', async () => {
    const { monitor, sampler } = setup({
      coordinator: -120_000,
      'a:1': -120_000,
      'b:1': -120_000,
    });
    expect(await sampler.sample('coordinator')).toBe(true);
    expect(await sampler.sampleNext(['a:1', 'b:1'])).toBe(true);
    expect(await sampler.sampleNext(['a:1', 'b:1'])).toBe(true);
    expect(monitor.verdict()).toMatchObject({ fenced: true, sources: 3, offsetMs: 120_000 });
  });

  it('measures peers in turn, and skips those that do not answer', async () => {
    const { monitor, sampler, sent } = setup({ 'a:1': 10, 'b:1': 'down', 'c:1': 'error' });
    const peers = ['a:1', 'b:1', 'c:1'];
    expect(await sampler.sampleNext(peers)).toBe(true);
    expect(await sampler.sampleNext(peers)).toBe(false);
    expect(await sampler.sampleNext(peers)).toBe(false);
    expect(await sampler.sampleNext([])).toBe(false);
    expect(sent).toEqual(['a:1 TIME', 'b:1 TIME', 'c:1 TIME']);
    expect(monitor.verdict()).toMatchObject({ fenced: false, sources: 1 });
  });
});
