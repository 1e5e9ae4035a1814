import fc from 'fast-check';
import { QuorumCounter } from './quorum';

describe('QuorumCounter', () => {
  it('is reached at W acknowledgements', () => {
    const q = new QuorumCounter(3, 2);
    expect(q.ack()).toBeUndefined();
    expect(q.fail()).toBeUndefined();
    expect(q.ack()).toBe('reached');
  });

  it('fails as soon as W can no longer be reached', () => {
    const q = new QuorumCounter(3, 2);
    expect(q.fail()).toBeUndefined();
    expect(q.fail()).toBe('failed');
    expect(q.acknowledged).toBe(0);
  });

  it('fails at once when fewer replicas exist than W', () => {
    expect(new QuorumCounter(1, 2).outcome).toBe('failed');
  });

  it('decides exactly when the outcome is certain, for any order of answers', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 7 })
          .chain((n) =>
            fc.tuple(
              fc.constant(n),
              fc.integer({ min: 1, max: n }),
              fc.array(fc.boolean(), { minLength: n, maxLength: n }),
            ),
          ),
        ([n, w, answers]) => {
          const q = new QuorumCounter(n, w);
          let acks = 0;
          let fails = 0;
          for (const ok of answers) {
            const outcome = ok ? q.ack() : q.fail();
            if (ok) acks++;
            else fails++;
            const expected = acks >= w ? 'reached' : n - fails < w ? 'failed' : undefined;
            expect(outcome).toBe(expected);
          }
          expect(q.outcome).not.toBeUndefined();
        },
      ),
    );
  });
});
