import { ConnectionLoop } from './connection-loop';
import { ErrorCode } from './errors';
import { resolveLimits } from './limits';
import { ReplyFlusher } from './reply-flusher';
import { Admission } from './server-admission';
import { DEFAULTS, type RespServerOptions } from './server-options';
import { listenTcp, type AddressInfo, type Server, type Socket } from './transport';

export type { CommandHandler, RespServerOptions, ServerConnection } from './server-options';

/** A server speaking RESP2, from {@link createRespServer}. */
export class RespServer {
  /** The underlying `net.Server` (a `tls.Server` when its {@link RespServerOptions.listen} makes one). */
  readonly server: Server;
  private readonly loops = new Map<Socket, ConnectionLoop>();
  /** Every accepted transport socket, served or not (refused, TLS handshake under way). */
  private readonly sockets = new Set<Socket>();
  private nextId = 1;
  private readonly sweep: NodeJS.Timeout | undefined;
  private readonly admission: Admission;
  private readonly flusher: ReplyFlusher;

  constructor(options: RespServerOptions) {
    const resolved = { ...DEFAULTS, ...options };
    const limits = resolveLimits(options.limits);
    const admission = new Admission(resolved.maxInFlight, options.admitsAtBound, options.onHeld);
    this.admission = admission;
    this.flusher = new ReplyFlusher(options.durability, options.onError);
    this.server = (options.listen ?? listenTcp)((socket) => {
      if (this.loops.size >= resolved.maxConnections) {
        socket.on('error', () => undefined);
        // Closed once the refusal is written, whether or not the peer reads or closes.
        socket.end(`-${ErrorCode.ERR} max number of clients reached\r\n`, () => socket.destroy());
        return;
      }
      const loop = new ConnectionLoop(
        this.nextId++,
        socket,
        resolved,
        limits,
        admission,
        this.flusher,
      );
      this.loops.set(socket, loop);
      socket.once('close', () => this.loops.delete(socket));
    });
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    // One timer per server, not per request or per socket: the request path pays counter
    // increments, and no socket timer is refreshed at each read and write.
    const periods = [resolved.requestTimeoutMs, resolved.idleTimeoutMs].filter((ms) => ms > 0);
    if (periods.length > 0) {
      this.sweep = setInterval(
        () => {
          const now = performance.now();
          for (const loop of this.loops.values()) loop.check(now);
        },
        sweepIntervalMs(Math.min(...periods)),
      );
      this.sweep.unref();
    }
  }

  /** Number of open client connections. */
  get connectionCount(): number {
    return this.loops.size;
  }

  /**
   * Commands of connections not marked priority whose asynchronous replies are unfinished,
   * or whose replies wait for the durability gate (counted only while
   * {@link RespServerOptions.maxInFlight} bounds them).
   */
  get inFlight(): number {
    return this.admission.inFlight;
  }

  /** Connections held back at {@link RespServerOptions.maxInFlight} right now. */
  get heldConnections(): number {
    return this.admission.heldCount;
  }

  /** Starts listening; resolves with the bound address (use port 0 for any free port). */
  listen(port: number, host = '127.0.0.1'): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  /**
   * Stops accepting connections, lets every connection finish the commands it has received
   * (reading no more), then closes it. Connections still open after `graceMs` are
   * destroyed, whatever their peers do, so this resolves within about `graceMs`.
   */
  async close(graceMs = 5000): Promise<void> {
    clearInterval(this.sweep);
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const loop of this.loops.values()) loop.close();
    const timer = setTimeout(() => {
      for (const socket of this.sockets) socket.destroy();
    }, graceMs);
    try {
      await closed;
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * How often connections are checked for the shorter of the request and idle timeouts
 * (`shortestMs`): a few times per period, from every 10 ms to every second. A connection is
 * closed within about two intervals past its timeout (its state is first seen at a check,
 * and judged at later ones).
 */
function sweepIntervalMs(shortestMs: number): number {
  return Math.min(1000, Math.max(10, Math.floor(shortestMs / 4)));
}

/** Creates a RESP2 server around a command handler; call `listen` to start it. */
export function createRespServer(options: RespServerOptions): RespServer {
  return new RespServer(options);
}
