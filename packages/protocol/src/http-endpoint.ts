import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createSecureServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { BASIC_CHALLENGE, checkBasicAuth } from './http-basic-auth';
import { secureContext, TLS_DEFAULTS, type TlsServerOptions } from './transport';
import { TlsConfigError } from './errors';
import type { UserTable } from './users';

/** A registry as the endpoint reads it: prom-client's `Registry` has this shape. */
export interface MetricsSource {
  /** The exposition's content type. */
  readonly contentType: string;
  /** The metrics in the text exposition format. */
  metrics(): Promise<string>;
}

/** What a route answers: a body and its content type. */
export interface HttpReply {
  readonly status?: number;
  readonly contentType: string;
  readonly body: string | Buffer;
  /** More response headers (`content-security-policy`). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** Answers a GET of one path; `query` holds the query string's parameters. */
export type HttpRoute = (query: URLSearchParams) => HttpReply | Promise<HttpReply>;

/** Options of {@link createHttpEndpoint}. */
export interface HttpEndpointOptions {
  /** Served at `/metrics`. */
  readonly metrics: MetricsSource;
  /** More GET routes by exact path (`/`, `/api/cluster`). */
  readonly routes?: Readonly<Record<string, HttpRoute>>;
  /**
   * Connections beyond this many are closed at once.
   * @default 64
   */
  readonly maxConnections?: number;
  /** Told about a route that threw (the client got a 500). */
  readonly onError?: (err: unknown) => void;
  /**
   * Serve HTTPS with this certificate and key, as the process's other listeners do. With
   * `requestCert`, a client without a certificate signed by `ca` fails its handshake
   * (reported to `onHandshakeError`) and never reaches a route.
   * @default plain HTTP
   */
  readonly tls?: TlsServerOptions;
  /**
   * Every request needs HTTP Basic credentials of one of these users (any permission: all
   * that is served is read-only); others get 401 with a `WWW-Authenticate` challenge.
   * @default no authentication
   */
  readonly users?: UserTable;
  /** Told of every request refused for its credentials (`user` is the name it gave, if any). */
  readonly onAuthFailure?: (
    remoteAddress: string,
    user: string | undefined,
    reason: string,
  ) => void;
}

/** A listening {@link createHttpEndpoint}. */
export interface HttpEndpoint {
  /** The bound address. */
  readonly host: string;
  /** The bound port. */
  readonly port: number;
  /** `https` when it serves TLS, else `http`. */
  readonly scheme: 'http' | 'https';
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

/** Whole requests must arrive within this; a scrape sends a few hundred bytes. */
const REQUEST_TIMEOUT_MS = 10_000;

/**
 * A small read-only HTTP listener for observability: `/metrics` in the Prometheus text
 * format and a few GET routes. Anything but GET and HEAD gets 405, unknown paths 404.
 * Request bodies are never read, and header size, request time and connection count are
 * bounded, so no client can make it hold memory. It follows the rules of the process's
 * client commands: HTTPS when `tls` is given (mutual with `requestCert`), and HTTP Basic
 * authentication against `users` when there are any. Where it may bind (protected mode) is
 * the caller's decision, as for its other listeners.
 *
 * @throws {@link TlsConfigError} for a certificate or key that does not parse or match;
 *   the listen error (EADDRINUSE, EACCES) when the address cannot be bound
 */
export async function createHttpEndpoint(
  port: number,
  host: string,
  options: HttpEndpointOptions,
): Promise<HttpEndpoint> {
  const routes: Record<string, HttpRoute> = {
    ...options.routes,
    '/metrics': async () => ({
      contentType: options.metrics.contentType,
      body: await options.metrics.metrics(),
    }),
  };
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    if (options.users !== undefined && options.users.size > 0) {
      const auth = checkBasicAuth(req.headers.authorization, options.users);
      if (!auth.ok) {
        options.onAuthFailure?.(req.socket.remoteAddress ?? '?', auth.user, auth.reason);
        res.writeHead(401, { 'www-authenticate': BASIC_CHALLENGE, 'content-type': 'text/plain' });
        res.end('authentication required: give the user and password of a kv user\n');
        return;
      }
    }
    void serve(req, res, routes, options.onError);
  };
  const limits = {
    requestTimeout: REQUEST_TIMEOUT_MS,
    headersTimeout: REQUEST_TIMEOUT_MS,
    maxHeaderSize: 8192,
  };
  const tls = options.tls;
  let server: Server;
  if (tls === undefined) server = createServer(limits, handle);
  else {
    if (tls.requestCert && tls.ca === undefined)
      throw new TlsConfigError('HTTPS server: client certificates need the CA that signs them');
    secureContext(tls, 'HTTPS server');
    server = createSecureServer(
      {
        ...limits,
        cert: tls.cert,
        key: tls.key,
        ...(tls.ca !== undefined && { ca: tls.ca }),
        requestCert: tls.requestCert ?? false,
        rejectUnauthorized: tls.requestCert ?? false,
        handshakeTimeout: tls.handshakeTimeoutMs ?? TLS_DEFAULTS.handshakeTimeoutMs,
      },
      handle,
    );
    server.on('tlsClientError', (err, socket) =>
      tls.onHandshakeError?.(err, `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`),
    );
  }
  server.maxConnections = options.maxConnections ?? 64;
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return {
    host: address.address,
    port: address.port,
    scheme: tls === undefined ? 'http' : 'https',
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function serve(
  req: IncomingMessage,
  res: ServerResponse,
  routes: Record<string, HttpRoute>,
  onError: ((err: unknown) => void) | undefined,
): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' });
    res.end('only GET and HEAD are served here\n');
    return;
  }
  const url = new URL(req.url ?? '/', 'http://localhost');
  const route = Object.hasOwn(routes, url.pathname) ? routes[url.pathname] : undefined;
  if (route === undefined) {
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end(`no page at ${url.pathname}; try /metrics\n`);
    return;
  }
  let reply: HttpReply;
  try {
    reply = await route(url.searchParams);
  } catch (err) {
    onError?.(err);
    res.writeHead(500, { 'content-type': 'text/plain' });
    res.end('internal error; see the server log\n');
    return;
  }
  res.writeHead(reply.status ?? 200, {
    ...reply.headers,
    'x-content-type-options': 'nosniff',
    'content-type': reply.contentType,
    'cache-control': 'no-store',
  });
  res.end(req.method === 'HEAD' ? undefined : reply.body);
}
