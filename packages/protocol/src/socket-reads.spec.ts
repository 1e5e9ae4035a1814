import { randomBytes } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { createRespServer, type RespServer } from './server';
import { readChunks, type ChunkReader } from './socket-reads';
import { waitFor } from './test-support/raw-peer';
import { OK, SimpleString } from './types';
import { encodeCommand } from './writer';

const servers: Server[] = [];
const respServers: RespServer[] = [];
const sockets: Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(respServers.splice(0).map((s) => s.close(100)));
  await Promise.all(
    servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
  );
});

/** What the server side of one connection saw. */
interface Accepted {
  readonly socket: Socket;
  /** The client's port, read while connected. */
  readonly peerPort: number | undefined;
  readonly reader: ChunkReader;
  readonly chunks: Buffer[];
  bytes(): Buffer;
  ended: boolean;
  closed: boolean;
}

/**
 * A server whose sockets are read through readChunks; `before` runs on each accepted
 * socket first. Resolves with its port and the connections it accepts, in order.
 */
async function serve(before?: (socket: Socket) => void): Promise<{
  port: number;
  accepted: Accepted[];
}> {
  const accepted: Accepted[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    before?.(socket);
    const chunks: Buffer[] = [];
    const seen: Accepted = {
      socket,
      peerPort: socket.remotePort,
      chunks,
      reader: readChunks(socket, (chunk) => chunks.push(chunk)),
      bytes: () => Buffer.concat(chunks),
      ended: false,
      closed: false,
    };
    socket.on('end', () => {
      seen.ended = true;
      socket.end();
    });
    socket.on('close', () => (seen.closed = true));
    accepted.push(seen);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { port: address.port, accepted };
}

/** A client socket to `port`, destroyed after the test; resolves once connected. */
async function dial(port: number): Promise<Socket> {
  const socket = connect({ port, host: '127.0.0.1' });
  sockets.push(socket);
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return socket;
}

/** One client connected to a fresh {@link serve} server, and the server's side of it. */
async function pair(): Promise<{ client: Socket; server: Accepted }> {
  const { port, accepted } = await serve();
  const client = await dial(port);
  await waitFor(() => accepted.length === 1);
  return { client, server: accepted[0] as Accepted };
}

/** Writes `data` and waits until the socket has handed all of it to the kernel. */
function send(socket: Socket, data: Buffer | string): Promise<void> {
  return new Promise((resolve, reject) =>
    socket.write(data, (err) => (err ? reject(err) : resolve())),
  );
}

/** Lets the event loop poll for input a few times. */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('readChunks', () => {
  it('reads an accepted plain socket into the shared buffer, every byte in order, from many sockets at once', async () => {
    const { port, accepted } = await serve();
    const payloads = [1, 2, 3, 4, 5].map((n) => randomBytes(150_000 * n + n));
    const clients = await Promise.all(payloads.map(() => dial(port)));
    const ports = clients.map((c) => c.localPort);
    await waitFor(() => accepted.length === clients.length);
    // Interleaved: every socket's reads go through the one buffer, turn after turn.
    await Promise.all(clients.map((c, i) => send(c, payloads[i] as Buffer)));
    for (const c of clients) c.end();
    await waitFor(() => accepted.every((a) => a.ended));

    for (const a of accepted) {
      expect(a.reader.path).toBe('buffer');
      // Each server socket against what its own client sent (matched by port).
      const payload = payloads[ports.indexOf(a.peerPort)];
      expect(a.bytes().equals(payload as Buffer)).toBe(true);
      // Over one buffer's worth: it came in several reads.
      expect(a.chunks.length).toBeGreaterThan(1);
    }
  });

  it('hands over copies: a chunk kept is not overwritten by later reads of any socket', async () => {
    const { port, accepted } = await serve();
    const [a, b] = [await dial(port), await dial(port)];
    await waitFor(() => accepted.length === 2);
    await send(a, 'first');
    await waitFor(() => accepted[0]?.chunks.length === 1);
    const kept = accepted[0]?.chunks[0] as Buffer;
    await send(b, 'XXXXXXXXXXXXXXXXXXXXXXXXXX');
    await send(a, 'YYYYYYYYYYYYYYYYYYYYYYYYYY');
    await waitFor(() => accepted[1]?.chunks.length === 1 && accepted[0]?.chunks.length === 2);
    expect(kept.toString()).toBe('first');
    expect(accepted[0]?.bytes().toString()).toBe('firstYYYYYYYYYYYYYYYYYYYYYYYYYY');
    expect(accepted[1]?.bytes().toString()).toBe('XXXXXXXXXXXXXXXXXXXXXXXXXX');
  });

  it('hands nothing over while paused, and everything once resumed, in order', async () => {
    const { client, server } = await pair();
    await send(client, 'before');
    await waitFor(() => server.chunks.length === 1);

    server.reader.pause();
    await send(client, 'during');
    await waitFor(() => server.socket.bytesRead === 'beforeduring'.length);
    await turns(5);
    expect(server.bytes().toString()).toBe('before');

    server.reader.resume();
    // Never within resume(): the caller may be in the middle of its own work.
    expect(server.bytes().toString()).toBe('before');
    await waitFor(() => server.bytes().toString() === 'beforeduring');
    await send(client, 'after');
    await waitFor(() => server.bytes().toString() === 'beforeduringafter');
  });

  it('stops reading a paused socket once its high-water mark is held, and loses nothing', async () => {
    const { client, server } = await pair();
    server.reader.pause();
    const payload = randomBytes(32 * 1024 * 1024);
    const sent = send(client, payload);
    const mark = server.socket.readableHighWaterMark;
    await waitFor(() => server.socket.bytesRead >= mark);
    await turns(20);
    // Held: the mark and at most one read past it; the rest waits in the kernel and the client.
    expect(server.socket.bytesRead).toBeLessThan(mark + 64 * 1024);
    expect(server.chunks).toHaveLength(0);

    server.reader.resume();
    await sent;
    await waitFor(() => server.bytes().length === payload.length);
    expect(server.bytes().equals(payload)).toBe(true);
  });

  it('sees a peer that closes while its socket is paused, with nothing held', async () => {
    const { client, server } = await pair();
    server.reader.pause();
    client.destroy();
    await waitFor(() => server.closed);
    expect(server.ended).toBe(true);
  });

  it("holds a peer's end behind the bytes held while paused, as a paused stream does", async () => {
    const { port, accepted } = await serve();
    const client = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    sockets.push(client);
    await new Promise<void>((resolve) => client.once('connect', () => resolve()));
    await waitFor(() => accepted.length === 1);
    const server = accepted[0] as Accepted;
    let handedAtEnd: number | undefined;
    server.socket.once('end', () => (handedAtEnd = server.bytes().length));
    server.reader.pause();
    // Less than the high-water mark: the end is read right behind it, not held in the kernel.
    const payload = randomBytes(100);
    client.end(payload);
    await waitFor(() => server.socket.bytesRead === payload.length);
    await turns(20);
    expect(handedAtEnd).toBeUndefined();
    expect(server.chunks).toHaveLength(0);

    server.reader.resume();
    await waitFor(() => server.ended);
    expect(handedAtEnd).toBe(payload.length);
    expect(server.bytes().equals(payload)).toBe(true);
  });

  it('hands nothing over once its socket is destroyed, whatever it held', async () => {
    const { client, server } = await pair();
    server.reader.pause();
    await send(client, 'held');
    await waitFor(() => server.socket.bytesRead === 'held'.length);
    server.socket.destroy();
    await waitFor(() => server.closed);
    server.reader.resume();
    await turns(20);
    expect(server.chunks).toHaveLength(0);
  });

  it('refuses a socket that already reads into a buffer of its own', async () => {
    const { port } = await serve();
    const own = connect({
      port,
      host: '127.0.0.1',
      onread: { buffer: Buffer.alloc(16), callback: () => true },
    });
    sockets.push(own);
    expect(() => readChunks(own, () => undefined)).toThrow('already reads into a buffer');
  });

  it("emits 'end' and 'close' when the peer closes, after its last bytes", async () => {
    const { client, server } = await pair();
    client.end('last words');
    await waitFor(() => server.closed);
    expect(server.ended).toBe(true);
    expect(server.bytes().toString()).toBe('last words');
  });

  it("falls back to 'data' events for a socket already flowing, and loses nothing", async () => {
    const early: Buffer[] = [];
    const { port, accepted } = await serve((socket) => socket.on('data', (d) => early.push(d)));
    const client = await dial(port);
    await waitFor(() => accepted.length === 1);
    await send(client, 'through the stream');
    await waitFor(() => accepted[0]?.bytes().toString() === 'through the stream');
    expect(accepted[0]?.reader.path).toBe('stream');
    expect(Buffer.concat(early).toString()).toBe('through the stream');
  });

  it('serves RESP connections through the buffer, with pipelined requests split anywhere', async () => {
    const server = createRespServer({
      handler: (args, connection) =>
        new SimpleString(`${args.map(String).join(' ')} via ${connection.readPath}`),
    });
    respServers.push(server);
    const { port } = await server.listen(0, '127.0.0.1');
    const client = await dial(port);
    let replies = '';
    client.on('data', (d: Buffer) => (replies += d.toString()));
    const requests = '*2\r\n$4\r\nECHO\r\n$1\r\na\r\n*2\r\n$4\r\nECHO\r\n$1\r\nb\r\n';
    // One byte per write: every request arrives over several reads.
    for (const byte of requests) await send(client, byte);
    await waitFor(() => replies.length >= '+ECHO a via buffer\r\n+ECHO b via buffer\r\n'.length);
    expect(replies).toBe('+ECHO a via buffer\r\n+ECHO b via buffer\r\n');
  });

  it("drops a reset connection's requests not yet dispatched, however its commands finish", async () => {
    const finish: (() => void)[] = [];
    let calls = 0;
    let callsAtClose: number | undefined;
    const server = createRespServer({
      handler: () => {
        calls++;
        return new Promise((resolve) => finish.push(() => resolve(OK)));
      },
      maxPendingReplies: 4,
      onClose: () => (callsAtClose = calls),
    });
    respServers.push(server);
    const { port } = await server.listen(0, '127.0.0.1');
    const client = await dial(port);
    const requests = Array.from({ length: 200 }, (_, i) => encodeCommand(['SET', `k${i}`, 'v']));
    await send(client, Buffer.concat(requests));
    await waitFor(() => calls === 4);
    client.resetAndDestroy();
    await waitFor(() => callsAtClose !== undefined);
    // Each command finishing frees a slot: a connection still open would dispatch the next.
    while (finish.length > 0) {
      for (const done of finish.splice(0)) done();
      await turns(3);
    }
    expect(callsAtClose).toBe(4);
    expect(calls).toBe(4);
  });
});
