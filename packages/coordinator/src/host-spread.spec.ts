import { Ring } from '@kv/ring';
import { HostSpread } from './host-spread';

describe('HostSpread', () => {
  const options = { vnodesPerWeight: 4 };

  it('warns once when copies of keys must share a host, and says when that ends', () => {
    const spread = new HostSpread();
    const one = new Ring(['127.0.0.1:5001'], options);
    expect(spread.check(one)).toBeUndefined(); // one node, one copy: nothing shares
    const two = one.add('127.0.0.1:5002');
    expect(spread.check(two)).toEqual({
      level: 'warn',
      message: expect.stringContaining('2 nodes run on 1 host(s), fewer than the 2 copies'),
    });
    expect(spread.check(two.add('127.0.0.1:5003'))).toBeUndefined(); // still short: no repeat
    const spreadOut = new Ring(['10.0.0.1:5001', '10.0.0.2:5001', '10.0.0.3:5001'], options);
    expect(spread.check(spreadOut)).toEqual({
      level: 'info',
      message: 'The 3 copies of every key are on distinct hosts again',
    });
    expect(spread.check(spreadOut)).toBeUndefined();
  });

  it('counts the host labels members give, not only the hosts in their ids', () => {
    const spread = new HostSpread();
    const labelled = new Ring(
      [
        { id: '10.0.0.1:5001', host: 'm1' },
        { id: '10.0.0.2:5001', host: 'm1' },
        { id: '10.0.0.3:5001', host: 'm1' },
      ],
      options,
    );
    expect(spread.check(labelled)?.level).toBe('warn');
  });

  it('is content with many nodes per host while there are hosts enough', () => {
    const spread = new HostSpread();
    const ids = [1, 2, 3].flatMap((m) => [1, 2].map((p) => `10.0.0.${m}:500${p}`));
    expect(spread.check(new Ring(ids, options))).toBeUndefined();
  });
});
