import { RingEpoch, token } from '@kv/ring';
import { createNodeLogger } from './logger';
import { NodeMetrics } from './metrics';
import { createNodeContext, type NodeContextParts } from './node-context';
import { UnsyncedRanges } from './unsynced-ranges';
import { ringOf } from './test-support/rings';

const [a, b, c, d] = ['a:1', 'b:1', 'c:1', 'd:1'] as const;
const keys = Array.from({ length: 200 }, (_, i) => Buffer.from(`key:${i}`));

/**
 * The context of node `a`, in touch and with nothing missed, at `placement`: only what
 * `answersAlone` reads is real.
 */
function contextAt(placement: RingEpoch) {
  const metrics = new NodeMetrics();
  const unsynced = new UnsyncedRanges(a);
  unsynced.update(placement);
  unsynced.synced(placement);
  const parts = {
    id: a,
    options: {},
    store: {},
    fence: { gate: { readsAlone: true } },
    unsynced,
    metrics,
    logger: createNodeLogger({ label: 'test', silent: true }),
    placement: () => placement,
  } as unknown as NodeContextParts;
  return { context: createNodeContext(parts), metrics };
}

describe('a node asked to answer an R=1 read alone (FETCH ... ALONE)', () => {
  it('answers alone for a key it owns in a settled ring, not for one it does not own', () => {
    const settled = new RingEpoch(4, ringOf([a, b, c, d]));
    const { context, metrics } = contextAt(settled);
    const owns = (k: Buffer): boolean => settled.readOwnersOfToken(token(k)).includes(a);
    expect(context.answersAlone(keys.find(owns) as Buffer, 4)).toBe(true);
    expect(context.answersAlone(keys.find((k) => !owns(k)) as Buffer, 4)).toBe(false);
    expect(metrics.counters.staleAnswers.value).toBe(1);
  });

  it('does not answer alone for a key on its way to a joining node, and does for the others', () => {
    const joining = new RingEpoch(5, ringOf([a, b, c]), ringOf([a, b, c, d]));
    const { context } = contextAt(joining);
    const keeps = (k: Buffer): boolean => joining.targetOwnersOfToken(token(k)).includes(a);
    expect(context.answersAlone(keys.find((k) => !keeps(k)) as Buffer, 5)).toBe(false);
    expect(context.answersAlone(keys.find(keeps) as Buffer, 5)).toBe(true);
  });

  it('answers no key alone while it is leaving', () => {
    const leaving = new RingEpoch(6, ringOf([a, b, c, d]), ringOf([b, c, d]));
    const { context } = contextAt(leaving);
    for (const k of keys.slice(0, 20)) expect(context.answersAlone(k, 6)).toBe(false);
  });
});
