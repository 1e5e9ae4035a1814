import type { Reply } from '@kv/protocol';
import { inSequence, readsThenWrites } from './command-sequence';
import { fakeConnection } from './test-support/fake-connection';

const args = (...parts: string[]): Buffer[] => parts.map((p) => Buffer.from(p));

const connection = fakeConnection;

/** A command whose reply the test settles, and whether it ran yet. */
function slow(): { run: () => Promise<Reply>; ran: () => boolean; settle: (ok: boolean) => void } {
  let ran = false;
  let settle: (ok: boolean) => void = () => undefined;
  const reply = new Promise<Reply>((resolve, reject) => {
    settle = (ok) => (ok ? resolve(1) : reject(new Error('no quorum')));
  });
  return {
    run: () => {
      ran = true;
      return reply;
    },
    ran: () => ran,
    settle: (ok) => settle(ok),
  };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('readsThenWrites', () => {
  it('names the commands whose write waits for their read', () => {
    for (const command of [
      args('EXPIRE', 'k', '10'),
      args('pexpire', 'k', '10', 'NX'),
      args('PERSIST', 'k'),
      args('SET', 'k', 'v', 'NX'),
      args('set', 'k', 'v', 'EX', '5', 'xx'),
      args('PUT', 'k', 'v', 'KEEPTTL'),
    ])
      expect([command.map(String), readsThenWrites(command)]).toEqual([command.map(String), true]);
    for (const command of [
      args('SET', 'k', 'v'),
      args('SET', 'k', 'NX'),
      args('SET', 'k', 'v', 'EX', '5', 'W', '2'),
      args('GET', 'NX'),
      args('DEL', 'k'),
      [],
    ])
      expect([command.map(String), readsThenWrites(command)]).toEqual([command.map(String), false]);
  });
});

describe('inSequence', () => {
  it('runs what follows a read-then-write command on its connection once it has finished', async () => {
    const c = connection();
    const expire = slow();
    const reply = inSequence(args('EXPIRE', 'k', '100'), c, expire.run);
    const order: string[] = [];
    const del = inSequence(args('DEL', 'k'), c, () => {
      order.push('DEL');
      return 1;
    });
    const get = inSequence(args('GET', 'k'), c, () => {
      order.push('GET');
      return null;
    });
    expect(expire.ran()).toBe(true);
    await turn();
    expect(order).toEqual([]);
    expire.settle(true);
    expect(await reply).toBe(1);
    expect(await del).toBe(1);
    expect(await get).toBeNull();
    expect(order).toEqual(['DEL', 'GET']);
    // Nothing holds the connection any more: the next command runs at once.
    expect(inSequence(args('GET', 'k'), c, () => 'now')).toBe('now');
  });

  it('releases the connection when the command fails, and holds no other connection', async () => {
    const c = connection();
    const other = connection();
    const nx = slow();
    const reply = inSequence(args('SET', 'k', 'v', 'NX'), c, nx.run);
    expect(inSequence(args('GET', 'k'), other, () => 'other')).toBe('other');
    const after = inSequence(args('GET', 'k'), c, () => 'after');
    nx.settle(false);
    await expect(reply).rejects.toThrow('no quorum');
    expect(await after).toBe('after');
    expect(inSequence(args('GET', 'k'), c, () => 'free')).toBe('free');
  });

  it('chains read-then-write commands one after another', async () => {
    const c = connection();
    const first = slow();
    const second = slow();
    void inSequence(args('EXPIRE', 'k', '1'), c, first.run);
    const secondReply = inSequence(args('PERSIST', 'k'), c, second.run);
    const last = inSequence(args('GET', 'k'), c, () => 'last');
    await turn();
    expect(second.ran()).toBe(false);
    first.settle(true);
    await turn();
    expect(second.ran()).toBe(true);
    let lastDone = false;
    void Promise.resolve(last).then(() => (lastDone = true));
    await turn();
    expect(lastDone).toBe(false);
    second.settle(true);
    expect(await secondReply).toBe(1);
    expect(await last).toBe('last');
  });
});
