import { connect, type Socket } from 'node:net';

/** A raw client socket and everything the server sent it, until it closed. */
export interface RawPeer {
  readonly socket: Socket;
  received(): string;
  readonly closed: Promise<void>;
}

/** Connects a raw socket to 127.0.0.1:`port`, added to `sockets` for the test to destroy. */
export function rawPeer(port: number, sockets: Socket[]): RawPeer {
  const socket = connect({ port, host: '127.0.0.1' });
  sockets.push(socket);
  let data = '';
  socket.on('data', (d: Buffer) => (data += d.toString('latin1')));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  return { socket, received: () => data, closed };
}

/** Polls `condition` every 5 ms until it holds; throws after `timeoutMs`. */
export async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
