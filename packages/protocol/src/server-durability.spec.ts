import type { Socket } from 'node:net';
import { ReplyError } from './errors';
import { createRespServer, type CommandHandler, type RespServer } from './server';
import type { RespServerOptions } from './server-options';
import { rawPeer, waitFor, type RawPeer } from './test-support/raw-peer';
import { encodeCommand } from './writer';

const servers: RespServer[] = [];
const sockets: Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => s.close(100)));
});

/** A durability gate the test opens: each call while `holding` hands out the current sync. */
class Gate {
  holding = true;
  calls = 0;
  private current:
    { promise: Promise<void>; resolve(): void; reject(err: Error): void } | undefined;

  readonly durability = (): Promise<void> | undefined => {
    this.calls++;
    if (!this.holding) return undefined;
    if (!this.current) {
      let resolve!: () => void;
      let reject!: (err: Error) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      this.current = { promise, resolve, reject };
    }
    return this.current.promise;
  };

  open(): void {
    this.holding = false;
    this.current?.resolve();
    this.current = undefined;
  }

  fail(err: Error): void {
    this.holding = false;
    this.current?.reject(err);
    this.current = undefined;
  }
}

async function start(
  gate: Gate,
  options: Partial<RespServerOptions> = {},
  handler: CommandHandler = (args) => {
    const name = args[0]?.toString().toUpperCase();
    if (name === 'ECHO') return args[1] ?? null;
    throw new ReplyError(`ERR unknown command '${args[0]?.toString() ?? ''}'`);
  },
): Promise<number> {
  const server = createRespServer({ handler, durability: gate.durability, ...options });
  servers.push(server);
  return (await server.listen(0, '127.0.0.1')).port;
}

const raw = (port: number): RawPeer => rawPeer(port, sockets);

/** A few turns of the event loop, time enough for a reply the server wrote to arrive. */
const turns = (): Promise<void> => new Promise((r) => setTimeout(r, 30));

const echo = (text: string): Buffer => encodeCommand(['ECHO', text]);

describe('RespServer with a durability gate', () => {
  it('holds a round of replies until the gate resolves, then writes them', async () => {
    const gate = new Gate();
    const peer = raw(await start(gate));
    peer.socket.write(Buffer.concat([echo('a'), echo('b')]));
    await waitFor(() => gate.calls > 0);
    await turns();
    expect(peer.received()).toBe('');
    gate.open();
    await waitFor(() => peer.received() === '$1\r\na\r\n$1\r\nb\r\n');
  });

  it('sends replies at once while the gate has nothing to wait for', async () => {
    const gate = new Gate();
    gate.holding = false;
    const peer = raw(await start(gate));
    peer.socket.write(echo('now'));
    await waitFor(() => peer.received() === '$3\r\nnow\r\n');
    expect(gate.calls).toBeGreaterThan(0);
  });

  it('keeps rounds in order: a later round with nothing to wait for still goes after a held one', async () => {
    const gate = new Gate();
    const port = await start(gate);
    const first = raw(port);
    const second = raw(port);
    first.socket.write(echo('1'));
    await waitFor(() => gate.calls > 0);
    // The next rounds find nothing to wait for, but must not overtake the held one.
    gate.holding = false;
    const callsBefore = gate.calls;
    first.socket.write(echo('2'));
    second.socket.write(echo('x'));
    await waitFor(() => gate.calls > callsBefore);
    await turns();
    expect([first.received(), second.received()]).toEqual(['', '']);
    gate.open();
    await waitFor(() => first.received() === '$1\r\n1\r\n$1\r\n2\r\n');
    await waitFor(() => second.received() === '$1\r\nx\r\n');
  });

  it('closes the connections of a round whose gate rejects, unanswered, and reports it once', async () => {
    const gate = new Gate();
    const errors: unknown[] = [];
    const port = await start(gate, { onError: (err) => errors.push(err) });
    const a = raw(port);
    const b = raw(port);
    a.socket.write(echo('a'));
    b.socket.write(echo('b'));
    await waitFor(() => gate.calls > 0);
    gate.fail(new Error('sync failed'));
    await Promise.all([a.closed, b.closed]);
    expect([a.received(), b.received()]).toEqual(['', '']);
    expect(errors).toEqual([new Error('sync failed')]);
    // The server goes on: a new connection is answered.
    const c = raw(port);
    c.socket.write(echo('c'));
    await waitFor(() => c.received() === '$1\r\nc\r\n');
  });

  it('counts the replies it holds as commands in flight: at maxInFlight connections are held until the gate opens', async () => {
    const gate = new Gate();
    let served = 0;
    let heldTimes = 0;
    const port = await start(gate, { maxInFlight: 3, onHeld: () => heldTimes++ }, (args) => {
      served++;
      return args[1] ?? null;
    });
    const peer = raw(port);
    const other = raw(port);
    peer.socket.write(Buffer.concat(['1', '2', '3', '4', '5'].map(echo)));
    await waitFor(() => heldTimes > 0);
    // Three answered at once and held for the gate: the bound is reached, nothing more runs,
    // from this connection or another.
    other.socket.write(echo('x'));
    await waitFor(() => heldTimes === 2);
    await turns();
    expect(served).toBe(3);
    expect([peer.received(), other.received()]).toEqual(['', '']);
    gate.open();
    await waitFor(
      () => peer.received() === '$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n$1\r\n5\r\n',
    );
    await waitFor(() => other.received() === '$1\r\nx\r\n');
    expect(served).toBe(6);
  });

  it('counts a reply made at once behind one still being worked out, until it is written', async () => {
    const gate = new Gate();
    let served = 0;
    let heldTimes = 0;
    let finish!: (reply: Buffer) => void;
    const port = await start(gate, { maxInFlight: 2, onHeld: () => heldTimes++ }, (args) => {
      served++;
      if (args[0]?.toString() === 'SLOW')
        return new Promise<Buffer>((resolve) => (finish = resolve));
      return args[1] ?? null;
    });
    const peer = raw(port);
    peer.socket.write(Buffer.concat([encodeCommand(['SLOW']), echo('a'), echo('b'), echo('c')]));
    // SLOW in flight, and `a`, answered at once but waiting behind it: the bound is reached.
    await waitFor(() => heldTimes === 1);
    expect(served).toBe(2);
    finish(Buffer.from('s'));
    // SLOW's reply is made, `a` still waits for the gate: one more is taken, then held again.
    await waitFor(() => heldTimes === 2);
    expect(served).toBe(3);
    gate.open();
    await waitFor(() => peer.received() === '$1\r\ns\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n');
    expect(served).toBe(4);
  });

  it('releases what it counted once replies go at once, so a small bound still serves a long pipeline', async () => {
    const gate = new Gate();
    gate.holding = false;
    const port = await start(gate, { maxInFlight: 1 });
    const peer = raw(port);
    const texts = Array.from({ length: 50 }, (_, i) => `v${i}`);
    peer.socket.write(Buffer.concat(texts.map(echo)));
    const expected = texts.map((t) => `$${t.length}\r\n${t}\r\n`).join('');
    await waitFor(() => peer.received() === expected);
  });

  it('releases what it counted for a round whose gate rejects', async () => {
    const gate = new Gate();
    const port = await start(gate, { maxInFlight: 2, onError: () => undefined });
    const a = raw(port);
    a.socket.write(Buffer.concat([echo('a'), echo('b')]));
    await waitFor(() => gate.calls > 0);
    gate.fail(new Error('sync failed'));
    await a.closed;
    // Had the two stayed counted, the bound would hold every connection from now on.
    const b = raw(port);
    b.socket.write(Buffer.concat([echo('c'), echo('d')]));
    await waitFor(() => b.received() === '$1\r\nc\r\n$1\r\nd\r\n');
  });

  it('counts held replies towards the output bound: a connection stops being read', async () => {
    const gate = new Gate();
    let served = 0;
    const big = 'x'.repeat(200);
    const port = await start(gate, { maxOutputBytes: 100 }, () => {
      served++;
      return Buffer.from(big);
    });
    const peer = raw(port);
    peer.socket.write(Buffer.concat(Array.from({ length: 50 }, () => echo('?'))));
    await waitFor(() => gate.calls > 0);
    await turns();
    // Past 100 bytes held, the rest waits unread rather than piling up replies.
    expect(served).toBeLessThan(5);
    gate.open();
    const expected = `$200\r\n${big}\r\n`.repeat(50);
    await waitFor(() => peer.received() === expected);
    expect(served).toBe(50);
  });

  it('lets a closing server finish: held replies are written before the connection ends', async () => {
    const gate = new Gate();
    const port = await start(gate);
    const server = servers[0] as RespServer;
    const peer = raw(port);
    peer.socket.write(echo('last'));
    await waitFor(() => gate.calls > 0);
    const closing = server.close(5000);
    await turns();
    expect(peer.received()).toBe('');
    gate.open();
    await peer.closed;
    await closing;
    expect(peer.received()).toBe('$4\r\nlast\r\n');
  });
});
