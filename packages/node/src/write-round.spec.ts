import { WriteRound } from './write-round';

const record = { value: Buffer.from('v'), ts: 10, origin: 'a:1', expiresAt: 0 };
const ack = (existed = false) => ({ applied: true, existed, ts: 10, origin: 'a:1' });

describe('WriteRound', () => {
  it('is decided at once when answers that arrive at once reach the quorum', async () => {
    const round = new WriteRound(record, 3, 1);
    round.answered(ack(true));
    expect([round.decided, round.reached, round.existed, round.staleTs]).toEqual([
      true,
      true,
      true,
      0,
    ]);
    await expect(round.whenDecided()).resolves.toBe(round);
  });

  it('counts a replica holding the same timestamp from another origin as stale, not as an ack', () => {
    const round = new WriteRound(record, 2, 2);
    round.answered(ack());
    round.answered({ applied: false, existed: true, ts: 10, origin: 'b:1' });
    expect([round.decided, round.reached, round.acknowledged]).toEqual([true, false, 1]);
    round.answered({ applied: false, existed: true, ts: 12, origin: 'b:1' });
    expect(round.staleTs).toBe(12);
  });

  it('acknowledges a replica that already held exactly this version', () => {
    const round = new WriteRound(record, 1, 1);
    round.answered({ applied: false, existed: true, ts: 10, origin: 'a:1' });
    expect(round.reached).toBe(true);
  });

  it('resolves once failures make the quorum unreachable', async () => {
    const round = new WriteRound(record, 3, 2);
    const decided = round.whenDecided();
    round.answered(ack());
    round.failed();
    expect(round.decided).toBe(false);
    round.failed();
    await expect(decided).resolves.toMatchObject({ reached: false, acknowledged: 1 });
  });
});
