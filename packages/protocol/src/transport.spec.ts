import { connect, createServer, type Socket } from 'node:net';
import { RespConnection } from './connection';
import { ConnectError } from './errors';
import { ConnectionPool } from './pool';
import { createRespServer, type RespServer } from './server';
import { connectTcp, type ConnectFactory, type ListenFactory } from './transport';
import { SimpleString } from './types';

const servers: RespServer[] = [];
const sockets: Socket[] = [];
const closers: (() => void)[] = [];

afterEach(async () => {
  for (const close of closers.splice(0)) close();
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((s) => s.close(100)));
});

const PONG = new SimpleString('PONG');

/** A PING server made by `listen`; resolves with its port. */
async function pingServer(listen?: ListenFactory): Promise<number> {
  const server = createRespServer({ handler: () => PONG, ...(listen && { listen }) });
  servers.push(server);
  return (await server.listen(0, '127.0.0.1')).port;
}

/** Plain TCP that notes every socket it accepts. */
function recordingListen(accepted: string[]): ListenFactory {
  return (onConnection) =>
    createServer((socket) => {
      accepted.push(`${socket.remoteAddress}:${socket.remotePort}`);
      onConnection(socket);
    });
}

/** Plain TCP that notes every target it dials. */
function recordingConnect(dialled: string[]): ConnectFactory {
  return (target, onReady) => {
    dialled.push(`${target.host}:${target.port}`);
    const socket = connectTcp(target, onReady);
    sockets.push(socket);
    return socket;
  };
}

describe('socket factories', () => {
  it('serves the connections a custom listen factory accepts', async () => {
    const accepted: string[] = [];
    const port = await pingServer(recordingListen(accepted));
    const c = await RespConnection.connect({ port });
    closers.push(() => c.destroy());
    expect(await c.send(['PING'])).toEqual(PONG);
    expect(accepted).toHaveLength(1);
    expect(accepted[0]).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it('dials through a custom connect factory, alone and in a pool', async () => {
    const port = await pingServer();
    const dialled: string[] = [];
    const c = await RespConnection.connect({ port, connect: recordingConnect(dialled) });
    closers.push(() => c.destroy());
    expect(await c.send(['PING'])).toEqual(PONG);
    const pool = new ConnectionPool({ connect: recordingConnect(dialled) });
    closers.push(() => pool.close());
    expect(await pool.send(`127.0.0.1:${port}`, ['PING'])).toEqual(PONG);
    expect(await pool.send(`127.0.0.1:${port}`, ['PING'])).toEqual(PONG);
    expect(dialled).toEqual([`127.0.0.1:${port}`, `127.0.0.1:${port}`]);
  });

  it('sends nothing until the factory says the socket is ready, as after a TLS handshake', async () => {
    const port = await pingServer();
    const events: string[] = [];
    // A stand-in for a handshake: the socket is connected, but not ready until a PING of
    // its own has been answered.
    const handshake: ConnectFactory = (target, onReady) => {
      const socket = connect(target, () => {
        events.push('connected');
        socket.write('PING\r\n');
        socket.once('data', () => {
          events.push('ready');
          onReady();
        });
      });
      return socket;
    };
    const c = await RespConnection.connect({ port, connect: handshake });
    closers.push(() => c.destroy());
    events.push('resolved');
    expect(await c.send(['PING'])).toEqual(PONG);
    expect(events).toEqual(['connected', 'ready', 'resolved']);
  });

  it('times out a socket that never becomes ready', async () => {
    const port = await pingServer();
    const never: ConnectFactory = (target) => {
      const socket = connect(target);
      sockets.push(socket);
      return socket;
    };
    const attempt = RespConnection.connect({ port, connect: never, connectTimeoutMs: 100 });
    await expect(attempt).rejects.toThrow(ConnectError);
    await expect(attempt).rejects.toThrow(`cannot connect to 127.0.0.1:${port} (ETIMEDOUT)`);
  });
});
