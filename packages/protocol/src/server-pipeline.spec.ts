import { execFile } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { ReplyError } from './errors';
import { createRespServer, type CommandHandler, type RespServer } from './server';
import { OK, type Reply } from './types';
import { encodeCommand } from './writer';

/**
 * Replies are written once per round of input, for every connection together (see
 * ReplyFlusher in server.ts): these tests pipeline through real clients and check that each
 * reply still reaches its own connection, in request order, with its own content.
 */

const run = promisify(execFile);
const servers: RespServer[] = [];
const clients: Redis[] = [];
const sockets: Socket[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.disconnect();
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => s.close(100)));
});

async function start(
  handler: CommandHandler,
  options: { maxOutputBytes?: number; maxInFlight?: number } = {},
): Promise<{ port: number; server: RespServer }> {
  const server = createRespServer({ handler, ...options });
  servers.push(server);
  const { port } = await server.listen(0, '127.0.0.1');
  return { port, server };
}

function redis(port: number): Redis {
  const c = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    enableReadyCheck: false,
    maxRetriesPerRequest: 0,
  });
  c.on('error', () => undefined);
  clients.push(c);
  return c;
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * `ECHO value` answers at once; `LATER value` after a microtask, `SLOW value` after a turn
 * of the event loop (so later requests of the pipeline finish first); `FAIL text` throws a
 * ReplyError at once and `AFAIL text` rejects with one later.
 */
const mixedHandler: CommandHandler = (args): Reply | Promise<Reply> => {
  const name = args[0]?.toString('latin1').toUpperCase();
  // Copied: the argument is a view into the received bytes, and these replies outlive the call.
  const value = Buffer.from(args[1] ?? '');
  switch (name) {
    case 'ECHO':
      return value;
    case 'LATER':
      return Promise.resolve(value);
    case 'SLOW':
      return tick().then(() => value);
    case 'FAIL':
      throw new ReplyError(`ERR failed ${value.toString()}`);
    case 'AFAIL':
      return tick().then(() => {
        throw new ReplyError(`ERR failed later ${value.toString()}`);
      });
    default:
      return new ReplyError(`ERR unknown command '${name ?? ''}'`);
  }
};

const KINDS = ['ECHO', 'LATER', 'SLOW', 'FAIL', 'AFAIL'] as const;

/** What a pipeline of `n` mixed commands tagged `tag` must answer, in order. */
function expected(tag: string, n: number): { command: string; value: string; reply: string }[] {
  return Array.from({ length: n }, (_, i) => {
    const command = KINDS[(i * 7 + tag.length) % KINDS.length] as string;
    const value = `${tag}-${i}`;
    const reply =
      command === 'FAIL'
        ? `error:ERR failed ${value}`
        : command === 'AFAIL'
          ? `error:ERR failed later ${value}`
          : value;
    return { command, value, reply };
  });
}

describe('RespServer pipelines', () => {
  it('answers mixed sync, async and failing commands of many pipelined connections in order', async () => {
    const { port } = await start(mixedHandler);
    const peers = Array.from({ length: 8 }, () => redis(port));
    await Promise.all(peers.map((p) => p.connect()));
    await Promise.all(
      peers.map(async (peer, p) => {
        for (let round = 0; round < 5; round++) {
          const want = expected(`c${p}r${round}`, 200);
          const pipeline = peer.pipeline();
          for (const { command, value } of want) pipeline.call(command, value);
          const results = (await pipeline.exec()) ?? [];
          const got = results.map(([err, reply]) =>
            err ? `error:${err.message}` : String(reply as Buffer),
          );
          expect(got).toEqual(want.map((w) => w.reply));
        }
      }),
    );
  });

  it('keeps a connection usable after an error in the middle of its pipeline', async () => {
    const { port } = await start(mixedHandler);
    const peer = redis(port);
    await peer.connect();
    const results = await peer
      .pipeline()
      .call('ECHO', 'a')
      .call('FAIL', 'b')
      .call('SLOW', 'c')
      .call('AFAIL', 'd')
      .call('NOSUCH', 'e')
      .call('LATER', 'f')
      .exec();
    expect(results?.map(([err, reply]) => (err ? err.message : String(reply as Buffer)))).toEqual([
      'a',
      'ERR failed b',
      'c',
      'ERR failed later d',
      "ERR unknown command 'NOSUCH'",
      'f',
    ]);
    expect(String(await peer.call('ECHO', 'after'))).toBe('after');
  });

  it('answers a raw pipeline of mixed commands byte for byte', async () => {
    const { port } = await start(mixedHandler);
    const socket = connect({ port, host: '127.0.0.1' });
    sockets.push(socket);
    let received = '';
    socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
    const want = expected('raw', 300);
    // Sent in uneven pieces, so requests straddle reads.
    const bytes = Buffer.concat(want.map((w) => encodeCommand([w.command, w.value])));
    for (let at = 0; at < bytes.length; at += 97) socket.write(bytes.subarray(at, at + 97));
    const wire = want
      .map((w) =>
        w.reply.startsWith('error:')
          ? `-${w.reply.slice('error:'.length)}\r\n`
          : `$${w.reply.length}\r\n${w.reply}\r\n`,
      )
      .join('');
    await waitFor(() => received.length >= wire.length);
    expect(received).toBe(wire);
  });

  it('counts every reply of a redis-cli --pipe stream, errors included', async () => {
    const { port } = await start(mixedHandler);
    const want = expected('pipe', 1000);
    const input = Buffer.concat(want.map((w) => encodeCommand([w.command, w.value])));
    const child = execFile('redis-cli', ['-p', String(port), '--pipe']);
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    child.stdin?.end(input);
    await exited;
    const errors = want.filter((w) => w.reply.startsWith('error:')).length;
    expect(output).toContain(`errors: ${errors}, replies: ${want.length}`);
  });

  it('answers redis-benchmark -P 16 over 50 connections without an error', async () => {
    let served = 0;
    const { port } = await start((args) => {
      served++;
      const name = args[0]?.toString('latin1').toUpperCase();
      if (name === 'SET') return served % 2 === 0 ? Promise.resolve(OK) : OK;
      if (name === 'GET') return served % 3 === 0 ? tick().then(() => 'xxx') : 'xxx';
      // redis-benchmark asks CONFIG GET at start; an empty list is a fine answer.
      return [];
    });
    const { stdout } = await run('redis-benchmark', [
      ...['-p', String(port), '-t', 'set,get', '-n', '20000', '-c', '50', '-P', '16', '--csv'],
    ]);
    expect(stdout).toMatch(/"SET","\d/);
    expect(stdout).toMatch(/"GET","\d/);
    expect(served).toBeGreaterThanOrEqual(40_000);
  });

  it('stops reading from a pipelining peer that does not read its asynchronous replies', async () => {
    let served = 0;
    const big = Buffer.alloc(64 * 1024, 7);
    const { port } = await start(
      () => {
        served++;
        return served % 2 === 0 ? Promise.resolve(big) : big;
      },
      { maxOutputBytes: 512 * 1024 },
    );
    const socket = connect({ port, host: '127.0.0.1' });
    sockets.push(socket);
    let received = 0;
    socket.on('data', (d: Buffer) => (received += d.length));
    socket.pause();
    const request = encodeCommand(['GET', 'k']);
    for (let i = 0; i < 1000; i++) socket.write(request);
    await waitFor(() => served > 0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Unbounded, every one of the 1000 replies (64 MB) would be produced and held.
    expect(served).toBeLessThan(100);
    socket.resume();
    await waitFor(() => served === 1000 && received >= 1000 * big.length);
  });

  it('drops the replies of a connection closed mid-pipeline and serves the others', async () => {
    const errors: unknown[] = [];
    let finished = 0;
    const handler: CommandHandler = (args) => {
      const value = Buffer.from(args[1] ?? '');
      return tick().then(() => {
        finished++;
        return value;
      });
    };
    const server = createRespServer({
      handler,
      maxInFlight: 10_000,
      onError: (e) => errors.push(e),
    });
    servers.push(server);
    const { port } = await server.listen(0, '127.0.0.1');
    const quitter = connect({ port, host: '127.0.0.1' });
    sockets.push(quitter);
    quitter.on('error', () => undefined);
    const requests = Buffer.concat(
      Array.from({ length: 500 }, (_, i) => encodeCommand(['SLOW', `q${i}`])),
    );
    quitter.write(requests);
    await waitFor(() => finished > 0);
    quitter.destroy();
    const stayer = redis(port);
    await stayer.connect();
    const pipeline = stayer.pipeline();
    for (let i = 0; i < 100; i++) pipeline.call('SLOW', `s${i}`);
    const results = (await pipeline.exec()) ?? [];
    expect(results.map(([, reply]) => String(reply as Buffer))).toEqual(
      Array.from({ length: 100 }, (_, i) => `s${i}`),
    );
    // Every command the quitter had sent was finished and forgotten: nothing left in flight.
    await waitFor(() => server.inFlight === 0 && server.connectionCount === 1);
    expect(errors).toEqual([]);
  });
});

async function waitFor(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
