import fc from 'fast-check';
import { commonRangeStarts } from './range-starts';
import { Ring } from './ring';
import { TOKEN_SPACE, token } from './token';

const small = { vnodesPerWeight: 8 };

describe('commonRangeStarts', () => {
  it('is just 0 for no ring or empty rings', () => {
    expect(commonRangeStarts([])).toEqual([0]);
    expect(commonRangeStarts([new Ring([], small)])).toEqual([0]);
  });

  it('splits the space where any ring changes its preference list, and nowhere twice', () => {
    const a = new Ring(['a:1', 'b:1', 'c:1'], small);
    const b = a.add('d:1');
    const starts = commonRangeStarts([a, b, a]);
    expect(starts[0]).toBe(0);
    for (let i = 1; i < starts.length; i++)
      expect(starts[i] as number).toBeGreaterThan(starts[i - 1] as number);
    expect(starts.length).toBe(1 + b.vnodeCount);
  });

  it('gives each ring one preference list per range', () => {
    const a = new Ring(['a:1', 'b:1', 'c:1', 'd:1'], small);
    const b = a.remove('c:1').add('e:1');
    const starts = commonRangeStarts([a, b]);
    fc.assert(
      fc.property(fc.string(), (key) => {
        const t = token(key);
        let i = starts.length - 1;
        while ((starts[i] as number) > t) i--;
        const start = starts[i] as number;
        for (const ring of [a, b])
          expect(ring.preferenceListForToken(t)).toEqual(ring.preferenceListForToken(start));
      }),
    );
    expect(starts.every((s) => s >= 0 && s < TOKEN_SPACE)).toBe(true);
  });
});
