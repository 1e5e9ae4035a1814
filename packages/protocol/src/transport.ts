import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import {
  connect as connectSecure,
  createSecureContext,
  createServer as createSecureServer,
  type SecureContext,
  type TLSSocket,
} from 'node:tls';
import { ClientCertificateError, TlsConfigError } from './errors';

export type { AddressInfo, Server, Socket, TLSSocket };

/** The first byte of a TLS record carrying a handshake (a ClientHello). */
export const TLS_HANDSHAKE = 0x16;

/** Where a {@link ConnectFactory} dials. */
export interface ConnectTarget {
  readonly host: string;
  readonly port: number;
}

/**
 * Opens an outgoing connection to `target` and calls `onReady` once it can carry requests
 * (later, never before returning); failures are `error` events on the returned socket. `net.connect` has this shape, and so
 * does `tls.connect`, whose listener runs after the handshake: {@link connectTls} makes one.
 */
export type ConnectFactory = (target: ConnectTarget, onReady: () => void) => Socket;

/**
 * Makes the server that accepts connections and hands each ready socket to `onConnection`.
 * `net.createServer` has this shape, and so does `tls.createServer`, which hands sockets
 * over after the handshake: {@link listenTls} makes one.
 */
export type ListenFactory = (onConnection: (socket: Socket) => void) => Server;

/** Plain TCP, the default {@link ConnectFactory}. */
export const connectTcp: ConnectFactory = (target, onReady) =>
  connect({ host: target.host, port: target.port }, onReady);

/** Plain TCP, the default {@link ListenFactory}. */
export const listenTcp: ListenFactory = (onConnection) => createServer(onConnection);

/** A PEM certificate or key: its text, or its bytes as read from a file. */
export type Pem = string | Buffer;

/** The defaults of the TLS factories. */
export const TLS_DEFAULTS = {
  /** A peer that has not finished its handshake this long after connecting is cut off. */
  handshakeTimeoutMs: 10_000,
} as const;

/** Options of {@link listenTls}. */
export interface TlsServerOptions {
  /** The server's certificate chain (its certificate first). */
  readonly cert: Pem;
  /** The private key of `cert`. */
  readonly key: Pem;
  /**
   * CAs that client certificates must be signed by. Needed with `requestCert`.
   * @default none
   */
  readonly ca?: Pem;
  /**
   * Mutual TLS: every peer must present a certificate signed by `ca`. A peer without one, or
   * with one from another CA, is closed as soon as its handshake is done, before anything it
   * sends is read, and reported to `onHandshakeError` as a {@link ClientCertificateError}.
   * @default false
   */
  readonly requestCert?: boolean;
  /**
   * A peer that has not finished its handshake this long after connecting is cut off.
   * @default 10000
   */
  readonly handshakeTimeoutMs?: number;
  /**
   * Told of every handshake that failed (timed out, not TLS, cut short), and of every peer
   * refused for its certificate (a {@link ClientCertificateError}); the socket is already
   * destroyed. They fail silently without it.
   */
  readonly onHandshakeError?: (err: Error, remoteAddress: string) => void;
}

/** Options of {@link connectTls}. */
export interface TlsClientOptions {
  /**
   * CAs the server's certificate must be signed by.
   * @default the CAs Node.js trusts (its bundled Mozilla list)
   */
  readonly ca?: Pem;
  /** A client certificate, for servers that require one (mutual TLS). Needs `key`. */
  readonly cert?: Pem;
  /** The private key of `cert`. */
  readonly key?: Pem;
  /**
   * The name the server's certificate must carry, also sent as SNI.
   * @default the host dialled (an IP address is matched against the certificate's IP names)
   */
  readonly servername?: string;
}

/**
 * A secure context from PEM text: made once, so that a certificate that does not parse, or
 * a key that does not match its certificate, is refused when a server or client is made,
 * not at its first connection. (A TLS server builds its own from the same options.)
 */
export function secureContext(
  options: { cert?: Pem; key?: Pem; ca?: Pem },
  what: string,
): SecureContext {
  if ((options.cert === undefined) !== (options.key === undefined))
    throw new TlsConfigError(`${what}: a TLS certificate needs its key, and a key its certificate`);
  try {
    return createSecureContext({ cert: options.cert, key: options.key, ca: options.ca });
  } catch (err) {
    throw new TlsConfigError(`${what}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * TLS on every accepted connection. The server's certificate and key are checked now
 * (a {@link TlsConfigError} if they do not parse or do not match). A handshake that fails or
 * does not finish within `handshakeTimeoutMs` destroys its socket and reaches
 * `onHandshakeError`; it never reaches `onConnection`, nor stops the server.
 * @throws {@link TlsConfigError}
 */
export function listenTls(options: TlsServerOptions): ListenFactory {
  if (options.requestCert && options.ca === undefined)
    throw new TlsConfigError('TLS server: client certificates need the CA that signs them');
  secureContext(options, 'TLS server');
  const requestCert = options.requestCert ?? false;
  return (onConnection) => {
    const server = createSecureServer(
      {
        cert: options.cert,
        key: options.key,
        ...(options.ca !== undefined && { ca: options.ca }),
        requestCert,
        // Certificates are checked below rather than by Node.js, which would close the
        // socket without saying why.
        rejectUnauthorized: false,
        handshakeTimeout: options.handshakeTimeoutMs ?? TLS_DEFAULTS.handshakeTimeoutMs,
      },
      (socket) => {
        if (requestCert && !socket.authorized) {
          const remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
          const presented = Object.keys(socket.getPeerCertificate() ?? {}).length > 0;
          const reason = presented ? socket.authorizationError : 'no certificate presented';
          socket.destroy();
          options.onHandshakeError?.(new ClientCertificateError(reason), remote);
          return;
        }
        onConnection(socket);
      },
    );
    // Without a listener Node.js destroys the socket too; with one, it is ours to destroy.
    server.on('tlsClientError', (err, socket) => {
      const remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
      socket.destroy();
      options.onHandshakeError?.(err, remote);
    });
    return server;
  };
}

/**
 * TLS on every outgoing connection: `onReady` runs once the handshake is done and the
 * server's certificate verified against `ca` and the host name. The client certificate and
 * CA are checked now.
 * @throws {@link TlsConfigError}
 */
export function connectTls(options: TlsClientOptions = {}): ConnectFactory {
  const context = secureContext(options, 'TLS client');
  return (target, onReady) =>
    connectSecure(
      {
        host: target.host,
        port: target.port,
        secureContext: context,
        ...(options.servername !== undefined && { servername: options.servername }),
      },
      onReady,
    );
}
