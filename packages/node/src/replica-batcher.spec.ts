import { ReplyError } from '@kv/protocol';
import { ReplicaBatcher, settleAll, type Waiting } from './replica-batcher';
import { MAX_BATCH_RECORDS } from './replication';

const rec = (ts: number) => ({ ts, origin: 'a:1', expiresAt: 0, value: Buffer.from('v') });

/** A batcher whose turns end when the test says, and the batches it sent. */
function batcher(): { batcher: ReplicaBatcher; sent: [string, Waiting[]][]; endTurn: () => void } {
  const sent: [string, Waiting[]][] = [];
  let flush: (() => void) | undefined;
  return {
    batcher: new ReplicaBatcher(
      (peer, batch) => sent.push([peer, batch]),
      (f) => (flush = f),
    ),
    sent,
    endTurn: () => flush?.(),
  };
}

describe('ReplicaBatcher', () => {
  it('sends what one turn queued for each peer as one batch, in order, at the end of the turn', () => {
    const { batcher: b, sent, endTurn } = batcher();
    for (let i = 0; i < 5; i++) void b.add('p:1', Buffer.from(`k${i}`), rec(i));
    void b.add('p:2', Buffer.from('x'), rec(9));
    expect(sent).toEqual([]);
    endTurn();
    expect(sent.map(([peer, batch]) => [peer, batch.map((w) => String(w.key))])).toEqual([
      ['p:1', ['k0', 'k1', 'k2', 'k3', 'k4']],
      ['p:2', ['x']],
    ]);
    // The next turn starts afresh.
    void b.add('p:1', Buffer.from('later'), rec(10));
    endTurn();
    expect(sent.map(([, batch]) => batch.length)).toEqual([5, 1, 1]);
  });

  it("sends one peer's batch at once when asked, before a request that must not overtake it", () => {
    const { batcher: b, sent, endTurn } = batcher();
    void b.add('p:1', Buffer.from('a'), rec(1));
    void b.add('p:2', Buffer.from('b'), rec(2));
    b.flushPeer('p:1');
    expect(sent.map(([peer, batch]) => [peer, batch.map((w) => String(w.key))])).toEqual([
      ['p:1', ['a']],
    ]);
    b.flushPeer('p:1');
    b.flushPeer('p:3');
    expect(sent).toHaveLength(1);
    endTurn();
    expect(sent.map(([peer]) => peer)).toEqual(['p:1', 'p:2']);
  });

  it('sends a full batch at once and starts another', () => {
    const { batcher: b, sent, endTurn } = batcher();
    for (let i = 0; i <= MAX_BATCH_RECORDS; i++) void b.add('p:1', Buffer.from(`k${i}`), rec(i));
    expect(sent.map(([, batch]) => batch.length)).toEqual([MAX_BATCH_RECORDS]);
    endTurn();
    expect(sent.map(([, batch]) => batch.length)).toEqual([MAX_BATCH_RECORDS, 1]);
  });

  it('settles each record with the answer at its index', async () => {
    const { batcher: b, sent, endTurn } = batcher();
    const answers = ['a', 'b'].map((k, i) => b.add('p:1', Buffer.from(k), rec(i)));
    endTurn();
    const refusal = new ReplyError('CLOCKSKEW version 1 is ahead');
    settleAll((sent[0] as [string, Waiting[]])[1], [
      { applied: true, existed: false, ts: 0, origin: 'a:1' },
      refusal,
    ]);
    await expect(answers[0]).resolves.toMatchObject({ applied: true });
    await expect(answers[1]).rejects.toBe(refusal);
  });
});
