import {
  createHttpEndpoint,
  createRespServer,
  handshakeFailureLevel,
  listenTcp,
  listenTls,
  type HttpEndpoint,
  type Reply,
  type RespServer,
  type ServerConnection,
} from '@kv/protocol';
import type { Logger } from 'winston';
import { MAX_KEYS_PER_COMMAND } from './command-args';
import { MAX_PENDING_BYTES } from './lmdb-log-applier';
import { NodeMetrics } from './metrics';
import { WriteAheadLogError } from './write-ahead-log';
import type { NodeOptions } from './node-options';
import { resolveNodeOptions, type Address, type ResolvedNodeOptions } from './resolve-node-options';
import { openStorage, type NodeStorage } from './storage';

/**
 * Most arguments a request to a node may have: room for the largest command (a multi-key
 * command at its key limit, plus options) several times over. A longer request is dropped
 * as its header is read, before its arguments are held anywhere, and answered `-TOOLARGE`.
 */
const MAX_ARGUMENTS = 4 * MAX_KEYS_PER_COMMAND;

/** What {@link listenNode} has ready before the node is built. */
export interface NodeParts {
  readonly options: ResolvedNodeOptions;
  readonly server: RespServer;
  readonly bound: Address;
  readonly metricsEndpoint: HttpEndpoint | undefined;
  readonly storage: NodeStorage;
}

/**
 * What the listeners reach of the node, once it is built (the node and its metrics and
 * logger are undefined before).
 */
export interface NodeListenerHooks {
  /** Serves a request. */
  handle(args: Buffer[], connection: ServerConnection): Reply | Promise<Reply>;
  /** The server's `onClose`. */
  onClose(connection: ServerConnection, byServer: boolean): void;
  /** The server's `admitsAtBound`. */
  admitsAtBound(args: Buffer[]): boolean;
  metrics(): NodeMetrics | undefined;
  logger(): Logger | undefined;
}

/**
 * Checks the options, holds the data directory, then listens for commands (and for
 * `/metrics` when a metrics port is set): the parts the node is built from.
 * @throws InvalidNodeOptionError for an invalid option; the listen error if the address
 *   cannot be bound
 */
export async function listenNode(
  options: NodeOptions,
  hooks: NodeListenerHooks,
): Promise<NodeParts> {
  const resolved = resolveNodeOptions(options);
  // The data directory is held (or refused) before the port is taken.
  const storage = openStorage(resolved, {
    onTrouble: (cause) => {
      const logger = hooks.logger();
      if (cause === undefined) logger?.info('The database commits writes again');
      else
        logger?.error(
          `The database could not commit writes (${cause.message}): ${
            resolved.fsync === 'always'
              ? `they stay in the write-ahead log and are tried again, and past ${MAX_PENDING_BYTES / 1024 / 1024} MiB of them this node refuses writes`
              : 'this node refuses writes until it can'
          }. Free space on ${resolved.dataDir ?? 'its disk'}`,
        );
    },
    onLogSync: (sync) => hooks.metrics()?.logSynced(sync),
  });
  // The node id is the bound address, so the node is built once listening; no request
  // can arrive before the synchronous continuation of listen() that builds it has run
  // (the command port is the last thing awaited).
  const server = createRespServer({
    handler: hooks.handle,
    onClose: hooks.onClose,
    limits: {
      maxBulkLength: Math.max(resolved.maxValueBytes, resolved.maxKeyBytes),
      maxArguments: MAX_ARGUMENTS,
    },
    idleTimeoutMs: resolved.idleTimeoutMs,
    requestTimeoutMs: resolved.requestTimeoutMs,
    maxConnections: resolved.maxConnections,
    maxInFlight: resolved.maxInFlight,
    admitsAtBound: hooks.admitsAtBound,
    onHeld: () => hooks.metrics()?.counters.connectionsHeld.inc(),
    listen: resolved.tls
      ? listenTls({
          ...resolved.tls,
          onHandshakeError: (err, remote) =>
            hooks
              .logger()
              ?.log(
                handshakeFailureLevel(err),
                `TLS handshake with ${remote} failed: ${err.message}`,
              ),
        })
      : listenTcp,
    onError: (err) => {
      // A failed log drops the replies waiting on it; the node says so as it stops.
      if (err instanceof WriteAheadLogError) return;
      hooks
        .logger()
        ?.error(
          `Internal error serving a command: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
        );
    },
    // A durable engine that accepts writes at once (its log synced once per round) holds
    // each round of replies until what they follow is on disk. An engine without one (in
    // memory; LMDB but for --fsync always) answers its writes once committed, and no reply
    // waits (nor counts in flight) for a gate.
    durability: storage.engine.durable?.bind(storage.engine),
  });
  let bound;
  let metricsEndpoint: HttpEndpoint | undefined;
  try {
    // The metrics endpoint first: once the command port listens, nothing may be awaited
    // before the node is built (a command arriving in between would find no node).
    metricsEndpoint = await serveMetrics(resolved, hooks);
    bound = await server.listen(resolved.port, resolved.host);
  } catch (err) {
    await metricsEndpoint?.close();
    await server.close();
    await storage.close();
    throw err;
  }
  return {
    options: resolved,
    server,
    bound: { host: bound.address, port: bound.port },
    metricsEndpoint,
    storage,
  };
}

/**
 * Listens for `/metrics` when a metrics port is set, on the node's own interface (so
 * protected mode binds it as it binds the RESP port), over TLS when the node speaks it,
 * for the users of the users file when there is one. The registry is read through
 * `hooks` once the node exists; a scrape before then gets an empty exposition.
 */
async function serveMetrics(
  options: ResolvedNodeOptions,
  hooks: NodeListenerHooks,
): Promise<HttpEndpoint | undefined> {
  if (options.metricsPort === undefined) return undefined;
  return createHttpEndpoint(options.metricsPort, options.host, {
    metrics: {
      contentType: NodeMetrics.contentType,
      // A scrape before the node is built (it listens first) finds no series yet.
      metrics: () => hooks.metrics()?.registry.metrics() ?? Promise.resolve(''),
    },
    onError: (err) => hooks.logger()?.error(`Serving /metrics failed: ${String(err)}`),
    ...(options.tls && {
      tls: {
        ...options.tls,
        onHandshakeError: (err, remote) =>
          hooks
            .logger()
            ?.log(
              handshakeFailureLevel(err),
              `TLS handshake with ${remote} on the metrics port failed: ${err.message}`,
            ),
      },
    }),
    users: options.users,
    onAuthFailure: (remote, user, reason) => {
      hooks.metrics()?.counters.authFailures.inc();
      hooks
        .logger()
        ?.warn(
          `Refused a /metrics request from ${remote}${user === undefined ? '' : ` as ${user}`}: ${reason}`,
        );
    },
  });
}
