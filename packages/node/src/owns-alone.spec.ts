import { RingEpoch, token } from '@kv/ring';
import { ownsAlone } from './owns-alone';
import { ringOf } from './test-support/rings';

const [a, b, c, joiner] = ['a:1', 'b:1', 'c:1', 'd:1'] as const;
const tokens = Array.from({ length: 400 }, (_, i) => token(Buffer.from(`key:${i}`)));

describe('ownsAlone', () => {
  it('in a settled ring, is ownership in the read ring', () => {
    const settled = new RingEpoch(1, ringOf([a, b, c, joiner]));
    for (const t of tokens)
      expect(ownsAlone(settled, a, t)).toBe(settled.readOwnersOfToken(t).includes(a));
  });

  it('while a node joins, excludes the ranges on their way to it, and only those', () => {
    const joining = new RingEpoch(2, ringOf([a, b, c]), ringOf([a, b, c, joiner]));
    let moving = 0;
    for (const t of tokens) {
      // Every key has a, b and c as read owners; d takes some of a's.
      const keeps = joining.targetOwnersOfToken(t).includes(a);
      if (!keeps) moving++;
      expect(ownsAlone(joining, a, t)).toBe(keeps);
      // The joining node owns nothing alone: it is not in the read ring yet.
      expect(ownsAlone(joining, joiner, t)).toBe(false);
    }
    expect(moving).toBeGreaterThan(0);
    expect(moving).toBeLessThan(tokens.length);
  });

  it('takes the read owners when the caller has them', () => {
    const joining = new RingEpoch(2, ringOf([a, b, c]), ringOf([a, b, c, joiner]));
    const t = tokens[0] as number;
    expect(ownsAlone(joining, a, t, [b, c])).toBe(false);
  });
});
