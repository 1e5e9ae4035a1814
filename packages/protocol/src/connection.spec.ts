import { createServer, type Server, type Socket } from 'node:net';
import { RespConnection } from './connection';
import {
  ConnectError,
  ConnectionClosedError,
  ProtocolError,
  QueueFullError,
  ReplyError,
  RequestAbortedError,
  RequestTimeoutError,
} from './errors';
import { RespParser } from './parser';
import { SimpleString } from './types';

/** A scripted peer: `onData` sees every chunk the client sends and answers on the socket. */
const servers: Server[] = [];
const conns: RespConnection[] = [];

afterEach(async () => {
  for (const c of conns.splice(0)) c.destroy();
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise<void>((resolve) => {
          s.close(() => resolve());
          s.emit('kill');
        }),
    ),
  );
});

/** `onData` gets each chunk as text and the number of whole commands it completed. */
async function mockServer(
  onData: (socket: Socket, data: string, commands: number) => void,
): Promise<number> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    const parser = new RespParser('request');
    socket.on('data', (d: Buffer) => {
      let commands = 0;
      parser.feed(d, () => commands++);
      onData(socket, d.toString('latin1'), commands);
    });
    socket.on('error', () => undefined);
  });
  server.on('kill', () => sockets.forEach((s) => s.destroy()));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

async function open(
  port: number,
  options: Partial<Parameters<typeof RespConnection.connect>[0]> = {},
): Promise<RespConnection> {
  const c = await RespConnection.connect({ port, ...options });
  conns.push(c);
  return c;
}

describe('RespConnection', () => {
  it('resolves replies in order and rejects error replies with ReplyError', async () => {
    let n = 0;
    const port = await mockServer((socket, _data, commands) => {
      for (let i = 0; i < commands; i++)
        socket.write(n++ % 2 === 0 ? '+OK\r\n' : '-WRONGARGS nope\r\n');
    });
    const c = await open(port);
    const a = c.send(['A']);
    const b = c.send(['B']);
    expect(await a).toEqual(new SimpleString('OK'));
    await expect(b).rejects.toBeInstanceOf(ReplyError);
    await expect(b).rejects.toMatchObject({ code: 'WRONGARGS', message: 'WRONGARGS nope' });
  });

  it('sends commands issued in the same tick in one write', async () => {
    const chunks: number[] = [];
    const port = await mockServer((socket, _data, commands) => {
      chunks.push(commands);
      for (let i = 0; i < commands; i++) socket.write(':1\r\n');
    });
    const c = await open(port);
    await Promise.all([c.send(['A']), c.send(['B']), c.send(['C'])]);
    expect(chunks).toEqual([3]);
  });

  it('fails to connect with a ConnectError naming the address and the system code', async () => {
    const port = await mockServer(() => undefined);
    await new Promise<void>((resolve) => (servers.pop() as Server).close(() => resolve()));
    const err = await RespConnection.connect({ port }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe('ECONNREFUSED');
    expect((err as ConnectError).message).toBe(
      `cannot connect to 127.0.0.1:${port} (ECONNREFUSED)`,
    );
  });

  it('times out a request that gets no reply, and discards the late reply', async () => {
    let sockets: Socket[] = [];
    const port = await mockServer((socket) => {
      sockets = [socket];
    });
    const c = await open(port, { requestTimeoutMs: 50 });
    const err = await c.send(['SLOW']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RequestTimeoutError);
    expect((err as RequestTimeoutError).timeoutMs).toBe(50);
    const next = c.send(['NEXT'], { timeoutMs: 1000 });
    await new Promise((r) => setTimeout(r, 20));
    sockets[0]?.write(':1\r\n:2\r\n'); // late reply to SLOW, then NEXT's
    expect(await next).toBe(2);
  });

  it('rejects an aborted request with RequestAbortedError', async () => {
    const port = await mockServer(() => undefined);
    const c = await open(port, { requestTimeoutMs: 0 });
    const controller = new AbortController();
    const p = c.send(['X'], { signal: controller.signal });
    controller.abort();
    await expect(p).rejects.toBeInstanceOf(RequestAbortedError);
    await expect(c.send(['Y'], { signal: controller.signal })).rejects.toBeInstanceOf(
      RequestAbortedError,
    );
  });

  it('rejects every pending request when the peer closes', async () => {
    const port = await mockServer((socket) => socket.destroy());
    const c = await open(port);
    const closed = new Promise<Error | undefined>((resolve) => c.once('close', resolve));
    const results = await Promise.allSettled([c.send(['A']), c.send(['B'])]);
    for (const r of results) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(ConnectionClosedError);
    }
    await closed;
    expect(c.closed).toBe(true);
    await expect(c.send(['C'])).rejects.toBeInstanceOf(ConnectionClosedError);
  });

  it('bounds the pending queue', async () => {
    const port = await mockServer(() => undefined);
    const c = await open(port, { maxPending: 2, requestTimeoutMs: 0 });
    const a = c.send(['A']);
    const b = c.send(['B']);
    await expect(c.send(['C'])).rejects.toBeInstanceOf(QueueFullError);
    c.destroy();
    await expect(a).rejects.toBeInstanceOf(ConnectionClosedError);
    await expect(b).rejects.toBeInstanceOf(ConnectionClosedError);
  });

  it('closes with a ProtocolError when the peer sends garbage or an unrequested reply', async () => {
    const port = await mockServer((socket) => socket.write('+OK\r\n+EXTRA\r\n'));
    const c = await open(port);
    const closed = new Promise<Error | undefined>((resolve) => c.once('close', resolve));
    expect(await c.send(['A'])).toEqual(new SimpleString('OK'));
    expect(await closed).toBeInstanceOf(ProtocolError);
  });

  it('close() waits for pending replies, then closes', async () => {
    const port = await mockServer((socket) => setTimeout(() => socket.write(':7\r\n'), 30));
    const c = await open(port);
    const p = c.send(['A']);
    await c.close();
    expect(await p).toBe(7);
    expect(c.closed).toBe(true);
  });

  it('waits for drain when the socket buffer is full, and still delivers everything', async () => {
    let received = 0;
    const port = await mockServer((socket, data, commands) => {
      received += data.length;
      for (let i = 0; i < commands; i++) socket.write('+OK\r\n');
    });
    const c = await open(port, { requestTimeoutMs: 0 });
    const value = Buffer.alloc(1024 * 1024, 1);
    const replies = await Promise.all(
      Array.from({ length: 32 }, () => c.send(['SET', 'k', value])),
    );
    expect(replies).toHaveLength(32);
    expect(received).toBeGreaterThan(32 * 1024 * 1024);
  });
});
