import { connect, type Socket } from 'node:net';
import { ReplyError, encodeCommand } from '@kv/protocol';
import { Cluster } from '../harness/cluster';
import { HOST } from '../harness/free-port';
import { infoNumber, send, text, withConnection } from '../harness/resp';
import { waitFor } from '../harness/wait';

const sockets: Socket[] = [];

afterEach(() => {
  for (const s of sockets.splice(0)) s.destroy();
});

/** A raw connection that collects what the server sends. */
function raw(port: number, allowHalfOpen = false): { socket: Socket; received: () => string } {
  const socket = connect({ host: HOST, port, allowHalfOpen });
  sockets.push(socket);
  let data = '';
  socket.on('data', (d: Buffer) => (data += d.toString('latin1')));
  socket.on('error', () => undefined);
  return { socket, received: () => data };
}

describe('a kv-node process under pressure', () => {
  it('answers a write flood past --max-memory 64mb with -OOM and keeps serving reads', async () => {
    const cluster = await Cluster.start({
      nodes: 1,
      nodeArgs: ['--max-memory', '64mb', '--write-quorum', '1', '--write-deadline', '60000'],
    });
    const { port } = cluster.node(0);
    const value = Buffer.alloc(1024 * 1024, 0x61);
    const refusal = await withConnection(
      port,
      async (c) => {
        for (let i = 0; i < 100; i++) {
          const reply = await c.send(['SET', `big:${i}`, value]).catch((e: unknown) => e);
          if (reply instanceof ReplyError) return reply.message;
        }
        return 'no refusal';
      },
      { timeoutMs: 10_000 },
    );
    expect(refusal).toMatch(/^OOM command not allowed when used memory > 'maxmemory'/);
    expect(await infoNumber(port, 'maxmemory')).toBe(64 * 1024 * 1024);
    expect(await infoNumber(port, 'writes_refused_oom')).toBe(1);
    expect(text(await send(port, ['GET', 'big:0']))).toBe(value.toString());
    expect(await send(port, ['DEL', 'big:0'])).toBe(1);
    expect(text(await send(port, ['SET', 'after', 'v']))).toBe('OK');
  });

  it('stops on SIGTERM within its grace, whatever its clients do', async () => {
    const cluster = await Cluster.start({
      nodes: 1,
      nodeArgs: ['--shutdown-grace', '300', '--max-connections', '4', '--idle-timeout', '0'],
    });
    const node = cluster.node(0);
    const idle = raw(node.port);
    const chatty = raw(node.port);
    const halfway = raw(node.port);
    const stubborn = raw(node.port, true);
    idle.socket.write('PING\r\n');
    halfway.socket.write('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100\r\nabc');
    stubborn.socket.write(encodeCommand(['PING']));
    await waitFor(
      'the clients to be served',
      () =>
        idle.received() === '+PONG\r\n' && stubborn.received() === '+PONG\r\n' ? true : undefined,
      { timeoutMs: 5000 },
    );
    // One more than --max-connections: refused, and it never closes its side.
    const refused = raw(node.port, true);
    await waitFor(
      'the refusal',
      () => (refused.received() === '-ERR max number of clients reached\r\n' ? true : undefined),
      { timeoutMs: 5000 },
    );
    const chatter = setInterval(() => chatty.socket.write('PING\r\n'), 5);
    try {
      node.process.signal('SIGTERM');
      expect(await node.process.waitForExit(15_000)).toEqual({ code: 0, signal: null });
    } finally {
      clearInterval(chatter);
    }
  });
});
