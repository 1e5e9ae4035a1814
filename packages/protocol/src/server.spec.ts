import { connect, type Socket } from 'node:net';
import { RespConnection } from './connection';
import { ReplyError } from './errors';
import {
  createRespServer,
  type CommandHandler,
  type RespServer,
  type RespServerOptions,
} from './server';
import { OK } from './types';
import { rawPeer, waitFor, type RawPeer } from './test-support/raw-peer';
import { encodeCommand } from './writer';

const servers: RespServer[] = [];
const sockets: Socket[] = [];
const connections: RespConnection[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const c of connections.splice(0)) c.destroy();
  await Promise.all(servers.splice(0).map((s) => s.close(100)));
});

async function start(
  handler: CommandHandler,
  options: Partial<RespServerOptions> = {},
): Promise<number> {
  const server = createRespServer({ handler, ...options });
  servers.push(server);
  const address = await server.listen(0, '127.0.0.1');
  return address.port;
}

async function client(port: number): Promise<RespConnection> {
  const c = await RespConnection.connect({ port });
  connections.push(c);
  return c;
}

const raw = (port: number): RawPeer => rawPeer(port, sockets);

const echoHandler: CommandHandler = (args) => {
  const name = args[0]?.toString().toUpperCase();
  if (name === 'PING') return OK;
  if (name === 'ECHO') return args[1] ?? null;
  throw new ReplyError(`ERR unknown command '${args[0]?.toString() ?? ''}'`);
};

describe('RespServer', () => {
  it('answers inline and multibulk commands on one connection', async () => {
    const port = await start(echoHandler);
    const peer = raw(port);
    peer.socket.write('PING\r\n');
    peer.socket.write(encodeCommand(['ECHO', 'a b']));
    peer.socket.write('NOPE\r\n');
    await waitFor(() => peer.received().length >= 31);
    expect(peer.received()).toBe("+OK\r\n$3\r\na b\r\n-ERR unknown command 'NOPE'\r\n");
  });

  it('writes replies in request order when async handlers finish out of order', async () => {
    const port = await start(async (args) => {
      const delay = Number(args[1]?.toString());
      await new Promise((r) => setTimeout(r, delay));
      return delay;
    });
    const c = await client(port);
    const delays = [50, 10, 30, 0, 20];
    const replies = await Promise.all(delays.map((d) => c.send(['SLEEP', d])));
    expect(replies).toEqual(delays);
  });

  it('mixes sync and async replies in order', async () => {
    const port = await start((args) =>
      args[0]?.toString() === 'slow' ? new Promise((r) => setTimeout(() => r('slow'), 20)) : 'fast',
    );
    const c = await client(port);
    const replies = await Promise.all(['slow', 'fast', 'slow', 'fast'].map((n) => c.send([n])));
    expect(replies.map(String)).toEqual(['slow', 'fast', 'slow', 'fast']);
  });

  it('pipelines 10,000 commands over a real socket', async () => {
    const port = await start(echoHandler);
    const c = await client(port);
    const replies = await Promise.all(
      Array.from({ length: 10_000 }, (_, i) => c.send(['ECHO', `v${i}`])),
    );
    replies.forEach((r, i) => expect(String(r)).toBe(`v${i}`));
  });

  it('answers -PROTO and closes on a malformed frame, after the replies already due', async () => {
    const errors: string[] = [];
    const port = await start(echoHandler, { onProtocolError: (err) => errors.push(err.message) });
    const peer = raw(port);
    peer.socket.write('PING\r\n*1\r\n:5\r\nPING\r\n');
    await peer.closed;
    expect(peer.received()).toBe("+OK\r\n-PROTO expected '$' for a request argument, got ':'\r\n");
    expect(errors).toHaveLength(1);
  });

  it('keeps serving other connections after one sends garbage', async () => {
    const port = await start(echoHandler);
    const bad = raw(port);
    bad.socket.write('*1\r\n$-9\r\n');
    await bad.closed;
    expect(bad.received()).toMatch(/^-PROTO invalid bulk length/);
    const c = await client(port);
    expect(String(await c.send(['PING']))).toBe('OK');
  });

  it('answers -TOOLARGE for an oversize argument and keeps the connection', async () => {
    const port = await start(echoHandler, { limits: { maxBulkLength: 1024 } });
    const c = await client(port);
    await expect(c.send(['ECHO', Buffer.alloc(5000)])).rejects.toThrow(
      /^TOOLARGE argument of 5000 bytes exceeds the limit of 1024 bytes$/,
    );
    expect(String(await c.send(['ECHO', 'still here']))).toBe('still here');
  });

  it('turns an unexpected handler exception into -ERR internal error and reports it', async () => {
    const seen: unknown[] = [];
    const port = await start(
      (args) => {
        if (args[0]?.toString() === 'boom') throw new TypeError('bug');
        if (args[0]?.toString() === 'aboom') return Promise.reject(new Error('async bug'));
        return OK;
      },
      { onError: (err) => seen.push(err) },
    );
    const c = await client(port);
    await expect(c.send(['boom'])).rejects.toThrow('ERR internal error');
    await expect(c.send(['aboom'])).rejects.toThrow('ERR internal error');
    expect(String(await c.send(['ok']))).toBe('OK');
    expect(seen.map((e) => (e as Error).message)).toEqual(['bug', 'async bug']);
  });

  it('stops reading from a peer that does not read its replies, bounding output', async () => {
    let served = 0;
    const big = Buffer.alloc(64 * 1024, 1);
    const port = await start(
      () => {
        served++;
        return big;
      },
      { maxOutputBytes: 512 * 1024 },
    );
    const socket = connect({ port, host: '127.0.0.1' });
    sockets.push(socket);
    let received = 0;
    socket.on('data', (d: Buffer) => (received += d.length));
    socket.pause(); // do not read replies yet
    const request = encodeCommand(['GET', 'k']);
    for (let i = 0; i < 1000; i++) socket.write(request);
    await new Promise((r) => setTimeout(r, 300));
    // Unbounded, all 1000 replies (64 MB) would be produced at once.
    expect(served).toBeLessThan(100);
    socket.resume();
    await waitFor(() => served === 1000 && received >= 1000 * big.length);
  });

  it('closes connections idle for longer than idleTimeoutMs', async () => {
    const port = await start(echoHandler, { idleTimeoutMs: 100 });
    const peer = raw(port);
    await peer.closed;
    expect(peer.received()).toBe('');
  });

  it('counts any byte received as traffic for the idle timeout, however slowly a request completes', async () => {
    const port = await start(echoHandler, { idleTimeoutMs: 300, requestTimeoutMs: 0 });
    const peer = raw(port);
    let closed = false;
    void peer.closed.then(() => (closed = true));
    const request = encodeCommand(['ECHO', 'x']);
    // A byte every 50 ms: the request takes about 1.2 s, four idle periods, with no whole
    // request among them.
    for (let i = 0; i < request.length; i++) {
      peer.socket.write(request.subarray(i, i + 1));
      await new Promise((r) => setTimeout(r, 50));
    }
    await waitFor(() => peer.received() === '$1\r\nx\r\n');
    expect(closed).toBe(false);
    // Silent from here: closed.
    await peer.closed;
  });

  it('keeps a connection whose command is in flight past the idle timeout, then closes it once idle', async () => {
    let finish: (() => void) | undefined;
    const port = await start(
      () =>
        new Promise((resolve) => {
          finish = () => resolve(OK);
        }),
      { idleTimeoutMs: 100, requestTimeoutMs: 0 },
    );
    const peer = raw(port);
    let closed = false;
    void peer.closed.then(() => (closed = true));
    peer.socket.write(encodeCommand(['SLOW']));
    await waitFor(() => finish !== undefined);
    await new Promise((r) => setTimeout(r, 400));
    expect(closed).toBe(false);
    finish?.();
    await waitFor(() => peer.received() === '+OK\r\n');
    await peer.closed;
  });

  it('closes a connection that leaves its replies unread for the idle timeout, below the output bound', async () => {
    const big = Buffer.alloc(4 * 1024 * 1024, 'v');
    let byServer: boolean | undefined;
    const port = await start(() => big, {
      idleTimeoutMs: 100,
      requestTimeoutMs: 0,
      onClose: (_connection, server) => (byServer = server),
    });
    const peer = raw(port);
    peer.socket.pause(); // never reads
    peer.socket.write(encodeCommand(['GET', 'k']));
    // Well under maxOutputBytes (8 MiB): reading never pauses, so only the idle timeout
    // can end it. (The peer, not reading, would not see its end.)
    await waitFor(() => byServer !== undefined);
    expect(byServer).toBe(true);
  });

  it('tells onClose who ended each connection: the peer, or the server itself', async () => {
    const closes: { id: number; byServer: boolean; marked: unknown }[] = [];
    const port = await start(
      (args, connection) => {
        connection.locals.marked = args[1]?.toString();
        return OK;
      },
      {
        idleTimeoutMs: 200,
        onClose: (connection, byServer) =>
          closes.push({ id: connection.id, byServer, marked: connection.locals.marked }),
      },
    );
    const byPeer = raw(port);
    byPeer.socket.write(encodeCommand(['MARK', 'peer']));
    await waitFor(() => byPeer.received() === '+OK\r\n');
    byPeer.socket.destroy();
    await waitFor(() => closes.length === 1);
    expect(closes[0]).toEqual({ id: 1, byServer: false, marked: 'peer' });
    // Left idle, the second is closed by the server.
    const idle = raw(port);
    idle.socket.write(encodeCommand(['MARK', 'idle']));
    await idle.closed;
    await waitFor(() => closes.length === 2);
    expect(closes[1]).toEqual({ id: 2, byServer: true, marked: 'idle' });
  });

  it('refuses connections beyond maxConnections with an error', async () => {
    const port = await start(echoHandler, { maxConnections: 2 });
    await client(port);
    await client(port);
    const third = raw(port);
    await third.closed;
    expect(third.received()).toBe('-ERR max number of clients reached\r\n');
  });

  it('closes a connection that trickles a request slower than requestTimeoutMs, and only that one', async () => {
    const port = await start(echoHandler, { requestTimeoutMs: 100, idleTimeoutMs: 0 });
    const idle = await client(port);
    expect(await idle.send(['PING'])).toEqual(OK);
    const steady = raw(port);
    const slow = raw(port);
    const request = encodeCommand(['ECHO', 'x'.repeat(64)]);
    let sent = 0;
    // One byte every 20 ms: the request would take 1.6 s, far past the timeout.
    const trickle = setInterval(() => {
      if (sent < request.length) slow.socket.write(request.subarray(sent, ++sent));
      steady.socket.write('PING\r\n');
    }, 20);
    try {
      await slow.closed;
    } finally {
      clearInterval(trickle);
    }
    expect(sent).toBeLessThan(request.length);
    expect(slow.received()).toBe('-TIMEOUT request not completed in 100 ms: connection closed\r\n');
    // A connection idle between requests, and one that completes requests, are kept.
    expect(await idle.send(['ECHO', 'still here'])).toEqual(Buffer.from('still here'));
    expect(steady.socket.destroyed).toBe(false);
    expect(steady.received()).toMatch(/^(\+OK\r\n)+$/);
  });

  it('closes a connection that stops reading its replies for longer than requestTimeoutMs', async () => {
    const big = Buffer.alloc(4 * 1024 * 1024, 0x62);
    const port = await start(() => big, {
      requestTimeoutMs: 100,
      idleTimeoutMs: 0,
      maxOutputBytes: 64 * 1024,
    });
    const server = servers[servers.length - 1];
    const socket = connect({ port, host: '127.0.0.1' });
    sockets.push(socket);
    socket.on('error', () => undefined);
    socket.pause(); // never reads
    socket.write(Buffer.concat(Array.from({ length: 8 }, () => encodeCommand(['GET', 'k']))));
    await waitFor(() => server?.connectionCount === 1);
    await waitFor(() => server?.connectionCount === 0);
  });

  it('keeps a connection whose peer reads its replies slowly but steadily', async () => {
    const big = Buffer.alloc(256 * 1024, 0x63);
    const port = await start(() => big, {
      requestTimeoutMs: 1000,
      idleTimeoutMs: 0,
      maxOutputBytes: 64 * 1024,
    });
    const peer = raw(port);
    let received = 0;
    peer.socket.removeAllListeners('data');
    peer.socket.on('data', (d: Buffer) => {
      received += d.length;
      // One chunk, then a pause: far slower than the server writes, never stalled for long.
      peer.socket.pause();
      setTimeout(() => peer.socket.resume(), 5);
    });
    peer.socket.write(Buffer.concat(Array.from({ length: 32 }, () => encodeCommand(['GET', 'k']))));
    const expected = 32 * (big.length + `$${big.length}\r\n\r\n`.length);
    await waitFor(() => received === expected || peer.socket.destroyed, 30_000);
    expect(peer.socket.destroyed).toBe(false);
    expect(received).toBe(expected);
  });

  it('closes a refused connection at once, even when its peer keeps its side open', async () => {
    const server = createRespServer({ handler: echoHandler, maxConnections: 1 });
    servers.push(server);
    const { port } = await server.listen(0, '127.0.0.1');
    const first = await client(port);
    const refused = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    sockets.push(refused);
    let data = '';
    refused.on('data', (d: Buffer) => (data += d.toString()));
    refused.on('error', () => undefined);
    await new Promise<void>((resolve) => refused.on('end', () => resolve()));
    expect(data).toBe('-ERR max number of clients reached\r\n');
    expect(await first.send(['PING'])).toEqual(OK);
    expect(server.connectionCount).toBe(1);
    // The refused peer never ends its side, yet the server holds nothing of it: close()
    // needs no grace period to be over (one longer than this test may run).
    await server.close(60_000);
  });

  it('close() resolves within its grace whatever idle, busy, sending and refused peers do', async () => {
    let started = 0;
    const server = createRespServer({
      handler: (args) => {
        if (args[0]?.toString() === 'HANG') {
          started++;
          return new Promise<never>(() => undefined);
        }
        return OK;
      },
      maxConnections: 4,
      idleTimeoutMs: 0,
    });
    const { port } = await server.listen(0, '127.0.0.1');
    const peers = [raw(port), raw(port), raw(port), raw(port)];
    const [idle, busy, sender, halfOpen] = peers as [
      ReturnType<typeof raw>,
      ReturnType<typeof raw>,
      ReturnType<typeof raw>,
      ReturnType<typeof raw>,
    ];
    const refused = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    sockets.push(refused);
    refused.on('error', () => undefined);
    idle.socket.write('PING\r\n');
    busy.socket.write('HANG\r\n');
    halfOpen.socket.write('*2\r\n$4\r\nECHO\r\n$10\r\nabc');
    const sending = setInterval(() => sender.socket.write('PING\r\n'), 5);
    try {
      await waitFor(() => started === 1 && idle.received() === '+OK\r\n');
      await server.close(200);
    } finally {
      clearInterval(sending);
    }
    await Promise.all(peers.map((p) => p.closed));
    await waitFor(() => server.connectionCount === 0);
  });

  it('finishes in-flight commands before close() completes', async () => {
    const server = createRespServer({
      handler: () => new Promise((r) => setTimeout(() => r('done'), 100)),
    });
    const { port } = await server.listen(0);
    const c = await client(port);
    const reply = c.send(['work']);
    await new Promise((r) => setTimeout(r, 20));
    await server.close(2000);
    expect(String(await reply)).toBe('done');
  });
});
