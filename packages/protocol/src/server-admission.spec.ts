import { connect, type Socket } from 'node:net';
import { RespConnection } from './connection';
import { createRespServer, type RespServer, type RespServerOptions } from './server';
import type { Reply } from './types';
import { encodeCommand } from './writer';

// The server-wide bound on commands in flight (maxInFlight): every test holds the handler's
// work in its own hands (a command finishes when the test says so), so what is in flight at
// each moment is known, with no timing involved.

const servers: RespServer[] = [];
const sockets: Socket[] = [];
const connections: RespConnection[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const c of connections.splice(0)) c.destroy();
  await Promise.all(servers.splice(0).map((s) => s.close(100)));
});

/**
 * A handler whose commands finish only when released, counting how many run at once:
 * `WORK x` answers x, `BIG n` n bytes; `MEMBER x` marks its connection priority, then works
 * as `WORK`. `PING` answers at once.
 */
function heldWork(): {
  handler: RespServerOptions['handler'];
  running: () => number;
  most: () => number;
  served: () => number;
  release: (count?: number) => void;
} {
  const waiting: (() => void)[] = [];
  let running = 0;
  let most = 0;
  let served = 0;
  return {
    handler: (args, connection) => {
      const name = (args[0] as Buffer).toString();
      if (name === 'MEMBER') connection.prioritize();
      if (name === 'PING') return 'PONG';
      running++;
      most = Math.max(most, running);
      return new Promise<Reply>((resolve) =>
        waiting.push(() => {
          running--;
          served++;
          resolve(
            name === 'BIG'
              ? Buffer.alloc(Number((args[1] as Buffer).toString()), 'x')
              : (args[1] as Buffer).toString(),
          );
        }),
      );
    },
    running: () => running,
    most: () => most,
    served: () => served,
    release: (count = waiting.length) => {
      for (const finish of waiting.splice(0, count)) finish();
    },
  };
}

async function start(options: RespServerOptions): Promise<{ server: RespServer; port: number }> {
  const server = createRespServer(options);
  servers.push(server);
  const { port } = await server.listen(0, '127.0.0.1');
  return { server, port };
}

async function client(port: number): Promise<RespConnection> {
  const c = await RespConnection.connect({ port, requestTimeoutMs: 0 });
  connections.push(c);
  return c;
}

/** A raw socket, for a peer that never reads or that leaves mid-request. */
function raw(port: number): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' }, () => resolve(socket));
    socket.on('error', () => undefined);
    sockets.push(socket);
  });
}

/** A command's reply as text. */
async function send(c: RespConnection, args: string[]): Promise<unknown> {
  const reply = await c.send(args);
  return Buffer.isBuffer(reply) ? reply.toString() : reply;
}

async function waitFor(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('RespServer maxInFlight', () => {
  it('never has more than the bound in flight under pipelined floods from many connections, and serves every request in order', async () => {
    const work = heldWork();
    const held: string[] = [];
    const { server, port } = await start({
      handler: work.handler,
      maxInFlight: 16,
      onHeld: (c) => held.push(c.remoteAddress),
    });
    const clients = await Promise.all(Array.from({ length: 8 }, () => client(port)));
    const replies = clients.map((c, i) =>
      Promise.all(Array.from({ length: 40 }, (_, j) => send(c, ['WORK', `${i}:${j}`]))),
    );
    // Releasing what runs, batch by batch: each time the server dispatches up to the bound
    // again, from the connections it held.
    while (work.served() < 8 * 40) {
      await waitFor(() => work.running() === Math.min(16, 8 * 40 - work.served()));
      expect(server.inFlight).toBe(work.running());
      work.release();
    }
    const answered = await Promise.all(replies);
    expect(answered).toEqual(
      clients.map((_, i) => Array.from({ length: 40 }, (_, j) => `${i}:${j}`)),
    );
    expect(work.most()).toBe(16);
    expect(held.length).toBeGreaterThan(0);
    expect(server.inFlight).toBe(0);
    expect(server.heldConnections).toBe(0);
  });

  it('resumes held connections as commands finish, one slot at a time', async () => {
    const work = heldWork();
    const { server, port } = await start({ handler: work.handler, maxInFlight: 2 });
    const c = await client(port);
    const replies = Promise.all(['a', 'b', 'c', 'd'].map((x) => send(c, ['WORK', x])));
    await waitFor(() => work.running() === 2);
    expect(server.heldConnections).toBe(1);
    work.release(1);
    await waitFor(() => work.served() === 1 && work.running() === 2);
    work.release(1);
    await waitFor(() => work.served() === 2 && work.running() === 2);
    expect(server.heldConnections).toBe(0);
    work.release();
    expect(await replies).toEqual(['a', 'b', 'c', 'd']);
    expect(work.most()).toBe(2);
  });

  it('serves connections marked priority at the bound, without counting them', async () => {
    const work = heldWork();
    const { server, port } = await start({
      handler: work.handler,
      maxInFlight: 4,
      // A member's first request on a new connection: admitted even at the bound.
      admitsAtBound: (args) => (args[0] as Buffer).toString() === 'MEMBER',
    });
    const flood = await client(port);
    const clientReplies = Promise.all(
      Array.from({ length: 20 }, (_, i) => send(flood, ['WORK', `c${i}`])),
    );
    await waitFor(() => work.running() === 4 && server.heldConnections === 1);
    const member = await client(port);
    const memberReplies = Promise.all([
      send(member, ['MEMBER', 'm0']),
      ...Array.from({ length: 10 }, (_, i) => send(member, ['WORK', `m${i + 1}`])),
    ]);
    // All 11 member commands run beside the 4 client ones; the count stays at the bound.
    await waitFor(() => work.running() === 15);
    expect(server.inFlight).toBe(4);
    expect(server.heldConnections).toBe(1);
    while (work.served() < 31) {
      await waitFor(() => work.running() > 0 || work.served() === 31);
      work.release();
    }
    expect(await memberReplies).toEqual(Array.from({ length: 11 }, (_, i) => `m${i}`));
    expect(await clientReplies).toEqual(Array.from({ length: 20 }, (_, i) => `c${i}`));
  });

  it('holds a new connection that is not admitted at the bound, however it starts', async () => {
    const work = heldWork();
    const { server, port } = await start({
      handler: work.handler,
      maxInFlight: 1,
      admitsAtBound: (args) => (args[0] as Buffer).toString() === 'MEMBER',
    });
    const first = await client(port);
    const busy = send(first, ['WORK', 'first']);
    await waitFor(() => work.running() === 1);
    const second = await client(port);
    const waiting = send(second, ['WORK', 'second']);
    await waitFor(() => server.heldConnections === 1);
    expect(work.running()).toBe(1);
    work.release();
    expect(await busy).toBe('first');
    await waitFor(() => work.running() === 1);
    work.release();
    expect(await waiting).toBe('second');
  });

  it('holds even a command that would finish at once: which will is not known beforehand', async () => {
    const work = heldWork();
    const { server, port } = await start({ handler: work.handler, maxInFlight: 1 });
    const busy = await client(port);
    const pending = send(busy, ['WORK', 'x']);
    await waitFor(() => work.running() === 1);
    // Synchronous replies take no slot: only a request that would be dispatched at the
    // bound waits, so this one does too (the server cannot know it is cheap beforehand).
    const other = await client(port);
    const ping = send(other, ['PING']);
    await waitFor(() => server.heldConnections === 1);
    work.release();
    expect(await pending).toBe('x');
    expect(await ping).toBe('PONG');
  });

  it('releases the slots of a peer that never reads its replies, so others are served', async () => {
    const work = heldWork();
    const { server, port } = await start({
      handler: work.handler,
      maxInFlight: 8,
      maxOutputBytes: 1024,
    });
    const deaf = await raw(port);
    deaf.pause();
    // 200 MiB of replies: far more than socket buffers take, so its output backs up.
    deaf.write(Buffer.concat(Array.from({ length: 200 }, () => encodeCommand(['BIG', 2 ** 20]))));
    await waitFor(() => work.running() === 8);
    const other = await client(port);
    let answered: unknown;
    const reply = send(other, ['WORK', 'served']).then((r) => (answered = r));
    while (answered === undefined) {
      await waitFor(() => work.running() > 0 || answered !== undefined);
      work.release();
    }
    await reply;
    expect(answered).toBe('served');
    // The deaf peer was stopped on its output, not served to the end, and holds no slot.
    expect(work.served()).toBeLessThan(201);
    expect(server.inFlight).toBe(0);
  });

  it('forgets a held connection that closes mid-pause, and gives its slots back when its commands finish', async () => {
    const work = heldWork();
    const { server, port } = await start({ handler: work.handler, maxInFlight: 4 });
    const leaving = await raw(port);
    leaving.write(
      Buffer.concat(Array.from({ length: 50 }, (_, i) => encodeCommand(['WORK', `l${i}`]))),
    );
    await waitFor(() => work.running() === 4 && server.heldConnections === 1);
    const staying = await client(port);
    const replies = Promise.all(['s1', 's2'].map((x) => send(staying, ['WORK', x])));
    await waitFor(() => server.heldConnections === 2);
    leaving.destroy();
    await waitFor(() => server.heldConnections === 1 && server.connectionCount === 1);
    // The closed connection's commands still finish (their work was taken on); their slots
    // come back and the connection still open is served.
    work.release();
    await waitFor(() => work.running() === 2);
    expect(server.inFlight).toBe(2);
    work.release();
    expect(await replies).toEqual(['s1', 's2']);
    expect(server.inFlight).toBe(0);
    expect(server.heldConnections).toBe(0);
  });

  it('counts nothing without a bound', async () => {
    const work = heldWork();
    const { server, port } = await start({ handler: work.handler });
    const c = await client(port);
    const replies = Promise.all(Array.from({ length: 50 }, (_, i) => send(c, ['WORK', `${i}`])));
    await waitFor(() => work.running() === 50);
    expect(server.inFlight).toBe(0);
    expect(server.heldConnections).toBe(0);
    work.release();
    expect(await replies).toHaveLength(50);
  });
});
