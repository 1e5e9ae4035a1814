import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export type { AddressInfo, Server, Socket };

/** Where a {@link ConnectFactory} dials. */
export interface ConnectTarget {
  readonly host: string;
  readonly port: number;
}

/**
 * Opens an outgoing connection to `target` and calls `onReady` once it can carry requests
 * (later, never before returning); failures are `error` events on the returned socket. `net.connect` has this shape, and so
 * does `tls.connect`, whose listener runs after the handshake: a TLS dialler is
 * `(target, onReady) => tls.connect({ ...target, ca, servername }, onReady)`.
 */
export type ConnectFactory = (target: ConnectTarget, onReady: () => void) => Socket;

/**
 * Makes the server that accepts connections and hands each ready socket to `onConnection`.
 * `net.createServer` has this shape, and so does `tls.createServer`, which hands sockets
 * over after the handshake: `(onConnection) => tls.createServer({ key, cert }, onConnection)`.
 */
export type ListenFactory = (onConnection: (socket: Socket) => void) => Server;

/** Plain TCP, the default {@link ConnectFactory}. */
export const connectTcp: ConnectFactory = (target, onReady) =>
  connect({ host: target.host, port: target.port }, onReady);

/** Plain TCP, the default {@link ListenFactory}. */
export const listenTcp: ListenFactory = (onConnection) => createServer(onConnection);
