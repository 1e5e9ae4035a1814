import { createServer, type Server, type Socket } from 'node:net';
import { OverloadedError, ReplyError, UnreachableError } from './errors';
import { ConnectionPool, parseAddress } from './pool';
import { createRespServer, type RespServer } from './server';
import { OK, SimpleString } from './types';

const servers: RespServer[] = [];
const rawServers: Server[] = [];
const rawSockets: Socket[] = [];
const pools: ConnectionPool[] = [];

afterEach(async () => {
  for (const p of pools.splice(0)) p.close();
  for (const socket of rawSockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((s) => s.close(100)));
  await Promise.all(
    rawServers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
  );
});

function pool(options: ConstructorParameters<typeof ConnectionPool>[0] = {}): ConnectionPool {
  const p = new ConnectionPool({ requestTimeoutMs: 300, connectTimeoutMs: 300, ...options });
  pools.push(p);
  return p;
}

async function echoServer(): Promise<{ address: string }> {
  const server = createRespServer({
    handler: (args) => {
      const name = args[0]?.toString();
      if (name === 'FAIL') throw new ReplyError('UNAVAILABLE try later');
      return name === 'PING' ? new SimpleString('PONG') : OK;
    },
  });
  servers.push(server);
  const { port } = await server.listen(0, '127.0.0.1');
  return { address: `127.0.0.1:${port}` };
}

/** A port nobody listens on: bound, noted, then closed. */
async function deadAddress(): Promise<string> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as { port: number };
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return `127.0.0.1:${port}`;
}

/** Resolves once `done()` holds, checking every 5 ms. */
async function waitUntil(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((resolve) => setTimeout(resolve, 5));
}

/** Accepts connections and never answers. */
async function silentServer(): Promise<string> {
  const s = createServer((socket) => rawSockets.push(socket));
  rawServers.push(s);
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(s.address() as { port: number }).port}`;
}

describe('ConnectionPool', () => {
  it('reuses one pipelined connection per server', async () => {
    const { address } = await echoServer();
    const p = pool();
    const replies = await Promise.all(Array.from({ length: 50 }, () => p.send(address, ['PING'])));
    expect(replies.every((r) => r instanceof SimpleString && r.value === 'PONG')).toBe(true);
    expect(p.size).toBe(1);
  });

  it('passes error replies through without treating the server as failed', async () => {
    const { address } = await echoServer();
    const p = pool();
    await expect(p.send(address, ['FAIL'])).rejects.toThrow(ReplyError);
    expect(p.isAvailable(address)).toBe(true);
    expect(await p.send(address, ['PING'])).toEqual(new SimpleString('PONG'));
  });

  it('fails fast with UnreachableError while a refused server backs off', async () => {
    const address = await deadAddress();
    const p = pool({ minBackoffMs: 60_000 });
    const first = p.send(address, ['PING']);
    await expect(first).rejects.toThrow(UnreachableError);
    await expect(first).rejects.toThrow(`${address} is unreachable (ECONNREFUSED)`);
    expect(p.isAvailable(address)).toBe(false);
    await expect(p.send(address, ['PING'])).rejects.toThrow(
      `${address} is unreachable (ECONNREFUSED; backing off)`,
    );
  });

  it('tells of each failure to reach a server, not of refusals during its backoff', async () => {
    const address = await deadAddress();
    const failures: string[] = [];
    const p = pool({
      minBackoffMs: 60_000,
      onFailure: (a, reason) => failures.push(`${a} ${reason}`),
    });
    await expect(p.send(address, ['PING'])).rejects.toThrow(UnreachableError);
    await expect(p.send(address, ['PING'])).rejects.toThrow(UnreachableError);
    expect(failures).toEqual([`${address} ECONNREFUSED`]);
    const { address: live } = await echoServer();
    await p.send(live, ['PING']);
    expect(failures).toHaveLength(1);
  });

  it('counts a broken connection as one failure, however many requests were waiting on it', async () => {
    // Takes the requests, then drops the connection with all of them unanswered.
    const s = createServer((socket) => {
      rawSockets.push(socket);
      socket.on('data', () => setTimeout(() => socket.destroy(), 20));
    });
    rawServers.push(s);
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    const address = `127.0.0.1:${(s.address() as { port: number }).port}`;
    const failures: string[] = [];
    const p = pool({ minBackoffMs: 500, onFailure: (a) => failures.push(a) });
    const results = await Promise.allSettled([1, 2, 3].map(() => p.send(address, ['PING'])));
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(failures).toEqual([address]);
    // Backed off by the first step only: dialled again once 500 ms have passed.
    expect(p.isAvailable(address)).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(p.isAvailable(address)).toBe(true);
  });

  it('dials again once the backoff has passed', async () => {
    const address = await deadAddress();
    const p = pool({ minBackoffMs: 1 });
    await expect(p.send(address, ['PING'])).rejects.toThrow(UnreachableError);
    const { port } = parseAddress(address) ?? { port: 0 };
    const server = createRespServer({ handler: () => OK });
    servers.push(server);
    await server.listen(port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 5));
    expect(await p.send(address, ['PING'])).toEqual(OK);
  });

  it('dials at once a server it was told is back, backoff or not', async () => {
    const address = await deadAddress();
    const p = pool({ minBackoffMs: 60_000 });
    await expect(p.send(address, ['PING'])).rejects.toThrow(UnreachableError);
    const { port } = parseAddress(address) ?? { port: 0 };
    const server = createRespServer({ handler: () => OK });
    servers.push(server);
    await server.listen(port, '127.0.0.1');
    expect(p.isAvailable(address)).toBe(false);
    p.forgive(address);
    expect(p.isAvailable(address)).toBe(true);
    expect(await p.send(address, ['PING'])).toEqual(OK);
  });

  it('turns a request timeout into UnreachableError and drops the connection', async () => {
    const address = await silentServer();
    const p = pool({ minBackoffMs: 60_000 });
    const err = (await p.send(address, ['PING'], { timeoutMs: 50 }).catch((e: unknown) => e)) as
      UnreachableError | undefined;
    expect(err).toBeInstanceOf(UnreachableError);
    expect(err?.message).toBe(`${address} is unreachable (no reply within 50 ms)`);
    expect(err?.address).toBe(address);
    expect(p.isAvailable(address)).toBe(false);
    expect(p.size).toBe(0);
  });

  it('resets its connections: requests waiting on them fail, and the next one dials anew without a backoff', async () => {
    const address = await silentServer();
    const p = pool({ requestTimeoutMs: 60_000, minBackoffMs: 60_000 });
    const waiting = p.send(address, ['SYNC']).catch((e: unknown) => e);
    await waitUntil(() => rawSockets.length === 1);
    p.reset();
    const err = (await waiting) as UnreachableError;
    expect(err).toBeInstanceOf(UnreachableError);
    expect(err.message).toBe(`${address} is unreachable (connection reset)`);
    // Not backed off: the next request dials a new connection at once.
    expect(p.isAvailable(address)).toBe(true);
    const again = p.send(address, ['SYNC']).catch((e: unknown) => e);
    await waitUntil(() => rawSockets.length === 2);
    expect(p.size).toBe(1);
    p.close();
    expect(await again).toBeInstanceOf(UnreachableError);
  });

  it('fails at once the requests waiting for a connection still opening when reset; that opening failing later changes nothing', async () => {
    // The first connection's handshake gets no answer (sent into a partition); later
    // connections are answered.
    let accepted = 0;
    const s = createServer((socket) => {
      rawSockets.push(socket);
      if (accepted++ > 0) socket.on('data', () => socket.write('+OK\r\n'));
    });
    rawServers.push(s);
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    const address = `127.0.0.1:${(s.address() as { port: number }).port}`;
    const p = pool({
      requestTimeoutMs: 200,
      minBackoffMs: 60_000,
      handshake: async (c) => void (await c.send(['HELLO'])),
    });
    const waiting = p.send(address, ['PING']).catch((e: unknown) => e);
    await waitUntil(() => rawSockets.length === 1);
    p.reset();
    expect(((await waiting) as Error).message).toBe(`${address} is unreachable (connection reset)`);
    expect(await p.send(address, ['PING'])).toEqual(OK);
    // The first handshake times out meanwhile: the new connection stays, nothing backs off.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(p.size).toBe(1);
    expect(p.isAvailable(address)).toBe(true);
    expect(await p.send(address, ['PING'])).toEqual(OK);
    expect(rawSockets).toHaveLength(2);
  });

  it('resets the connection to one server, leaving the others open', async () => {
    const silent = await silentServer();
    const { address } = await echoServer();
    const p = pool({ requestTimeoutMs: 60_000 });
    expect(await p.send(address, ['PING'])).toEqual(new SimpleString('PONG'));
    const waiting = p.send(silent, ['SYNC']).catch((e: unknown) => e);
    await waitUntil(() => rawSockets.length === 1);
    p.reset(address);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(p.size).toBe(1);
    p.reset(silent);
    expect(((await waiting) as Error).message).toBe(`${silent} is unreachable (connection reset)`);
    expect(p.size).toBe(0);
    expect(await p.send(address, ['PING'])).toEqual(new SimpleString('PONG'));
  });

  it('fails a request past maxPending at once with OverloadedError, keeping the connection and the requests on it', async () => {
    const release: (() => void)[] = [];
    const server = createRespServer({
      handler: () => new Promise((resolve) => release.push(() => resolve(OK))),
    });
    servers.push(server);
    const address = `127.0.0.1:${(await server.listen(0, '127.0.0.1')).port}`;
    const p = pool({ maxPending: 3, requestTimeoutMs: 0 });
    const waiting = [1, 2, 3].map(() => p.send(address, ['WORK']));
    const err = (await p.send(address, ['WORK']).catch((e: unknown) => e)) as OverloadedError;
    expect(err).toBeInstanceOf(OverloadedError);
    expect(err).toBeInstanceOf(UnreachableError);
    expect(err.message).toBe(
      `${address} is overloaded (3 requests already pending on this connection; not sent)`,
    );
    expect(p.isAvailable(address)).toBe(true);
    expect(p.size).toBe(1);
    while (release.length < 3) await new Promise((resolve) => setTimeout(resolve, 5));
    for (const finish of release) finish();
    expect(await Promise.all(waiting)).toEqual([OK, OK, OK]);
    // The same connection takes requests again.
    const next = p.send(address, ['WORK']);
    while (release.length < 4) await new Promise((resolve) => setTimeout(resolve, 5));
    release[3]?.();
    expect(await next).toEqual(OK);
  });

  it('keeps the connection of a server that times a request out while answering earlier ones', async () => {
    // FIRST is answered only once SECOND has arrived; SECOND is never answered: the server
    // is alive and answering, and SECOND merely waits behind work.
    let answerFirst: (() => void) | undefined;
    let secondArrived = false;
    const server = createRespServer({
      handler: (args) => {
        if (args[0]?.toString() === 'FIRST')
          return new Promise((resolve) => (answerFirst = () => resolve(OK)));
        secondArrived = true;
        answerFirst?.();
        return new Promise(() => undefined);
      },
    });
    servers.push(server);
    const address = `127.0.0.1:${(await server.listen(0, '127.0.0.1')).port}`;
    const p = pool({ minBackoffMs: 60_000 });
    const first = p.send(address, ['FIRST'], { timeoutMs: 0 });
    // Long enough that FIRST's reply always arrives before SECOND times out.
    const second = p.send(address, ['SECOND'], { timeoutMs: 1000 }).catch((e: unknown) => e);
    expect(await first).toEqual(OK);
    const err = (await second) as OverloadedError;
    expect(secondArrived).toBe(true);
    expect(err).toBeInstanceOf(OverloadedError);
    expect(err.message).toBe(
      `${address} is overloaded (no reply within 1000 ms, while it answered earlier ones)`,
    );
    expect(p.isAvailable(address)).toBe(true);
    expect(p.size).toBe(1);
  });

  it('refuses requests after close', async () => {
    const { address } = await echoServer();
    const p = pool();
    await p.send(address, ['PING']);
    p.close();
    expect(p.size).toBe(0);
    await expect(p.send(address, ['PING'])).rejects.toThrow(
      `${address} is unreachable (pool closed)`,
    );
  });
});

describe('parseAddress', () => {
  it('splits at the last colon so IPv6 hosts keep theirs', () => {
    expect(parseAddress('127.0.0.1:5001')).toEqual({ host: '127.0.0.1', port: 5001 });
    expect(parseAddress('::1:5001')).toEqual({ host: '::1', port: 5001 });
  });

  it('returns undefined for anything that is not host:port with a port 1 to 65535', () => {
    for (const bad of ['nowhere', ':5001', 'h:0', 'h:65536', 'h:1.5', 'h:'])
      expect(parseAddress(bad)).toBeUndefined();
  });
});
