import {
  AuthenticationError,
  ErrorCode,
  ReplyError,
  RespConnection,
  type CommandArg,
  type Handshake,
  type ConnectFactory,
  type RespValue,
} from '@kv/protocol';
import { decodeRingReply, type Ring, type RingEpoch } from '@kv/ring';
import type { Logger } from 'winston';

/** Options of {@link CoordinatorLink}. */
export interface CoordinatorLinkOptions {
  /**
   * The coordinators to register and heartbeat with, tried in turn: the link stays with
   * the one that answers and moves to the next when it fails.
   */
  coordinators: readonly { readonly host: string; readonly port: number }[];
  /**
   * Opens the connection to the coordinator: plain TCP, or TLS.
   * @default plain TCP
   */
  connect?: ConnectFactory;
  /** The address this node advertises (its id is `host:port`). */
  host: string;
  port: number;
  zone?: string;
  weight?: number;
  /** @default 1000 */
  heartbeatIntervalMs?: number;
  /** Authenticates each connection to the coordinator before anything is sent on it. */
  handshake?: Handshake;
  /**
   * Longest pause between attempts to reach an unreachable coordinator. No longer than
   * the heartbeat interval by default: a coordinator restored from its data directory
   * gives members one failure timeout to heartbeat, and a node still backing off would
   * miss it and be declared dead.
   * @default the heartbeat interval
   */
  maxBackoffMs?: number;
  logger: Logger;
  /**
   * Called with each new epoch: the ring reads are routed by and the target ring writes
   * also go to (the same object when no node is joining or leaving).
   */
  onRing: (ring: Ring, target: Ring, epoch: number) => void;
  /**
   * Told, once until `onReconnect`, when the coordinator in use fails to answer (the link
   * then tries the next one, if there are several) or no longer knows this node (it was
   * declared dead), or its ring cannot be fetched: the ring this node has may be outdated,
   * as others may have been given its ranges meanwhile.
   */
  onLost?: () => void;
  /** Told when a coordinator answers again after `onLost`, once its current ring is here. */
  onReconnect?: () => void;
  /** Awaited before a ring is handed to `onRing` (the node measures its clock first). */
  beforeRing?: () => Promise<void>;
}

/**
 * Keeps a node in the cluster: registers with the coordinator, heartbeats, fetches the
 * ring when a heartbeat shows a new epoch, re-registers when the coordinator has forgotten
 * the node, and retries with backoff while the coordinator is unreachable (the node keeps
 * serving with the ring it has). Given several coordinators (one leads, the others forward
 * to it), it moves to the next one each time the current one fails.
 */
export class CoordinatorLink {
  private connection: RespConnection | null = null;
  private timer: NodeJS.Timeout | null = null;
  private epoch = -1;
  private rings: RingEpoch | undefined;
  private registered = false;
  private stopped = false;
  private failures = 0;
  /** Between `onLost` and `onReconnect`. */
  private lost = false;
  private current = 0;
  private readonly interval: number;

  constructor(private readonly options: CoordinatorLinkOptions) {
    if (options.coordinators.length === 0) throw new Error('no coordinator address given');
    this.interval = options.heartbeatIntervalMs ?? 1000;
  }

  /** `host:port` of the coordinator the link talks to now. */
  get address(): string {
    const { host, port } = this.options.coordinators[this.current] as {
      host: string;
      port: number;
    };
    return `${host}:${port}`;
  }

  /** Epoch of the ring last received, or -1 before the first. */
  get ringEpoch(): number {
    return this.epoch;
  }

  /** True while the coordinator answers; after a loss, only once its ring is here again. */
  get connected(): boolean {
    return this.registered && this.failures === 0 && !this.lost;
  }

  /** Starts registering and heartbeating; resolves after the first attempt either way. */
  async start(): Promise<void> {
    await this.tick();
  }

  /** Stops heartbeating and, if `leave`, unregisters (a graceful leave). */
  async stop(leave: boolean): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (leave && this.registered) {
      try {
        await this.send(['UNREGISTER_NODE', this.options.host, this.options.port]);
        this.options.logger.info(`Unregistered from the coordinator at ${this.address}`);
      } catch (err) {
        this.options.logger.warn(
          `Could not unregister from the coordinator at ${this.address}: ${describe(err)}`,
        );
      }
    }
    this.connection?.destroy();
    this.connection = null;
  }

  private async tick(): Promise<void> {
    try {
      if (!this.registered) await this.register();
      const reply = await this.send(['HEARTBEAT', this.options.host, this.options.port]);
      if (this.failures > 0)
        this.options.logger.info(`Coordinator at ${this.address} reachable again`);
      this.failures = 0;
      if (Number(reply) !== this.epoch) await this.refreshRing();
      if (this.lost) {
        this.lost = false;
        this.options.onReconnect?.();
      }
    } catch (err) {
      this.loseTouch();
      if (err instanceof ReplyError && err.code === ErrorCode.NOTREGISTERED) {
        this.registered = false;
        this.options.logger.info('Coordinator does not know this node; registering again');
        this.schedule(0);
        return;
      }
      this.failures++;
      const failed = this.address;
      this.next();
      if (this.failures === 1) {
        this.options.logger.warn(
          `Cannot reach the coordinator at ${failed} (${describe(err)}); retrying${this.options.coordinators.length > 1 ? ` with ${this.address}` : ''}, serving with the ring it has`,
        );
      }
    }
    const { length } = this.options.coordinators;
    // After a failure the other coordinators are each tried at once, then backed off.
    const backoff =
      this.failures === 0
        ? this.interval
        : this.failures % length !== 0
          ? 0
          : Math.min(
              this.interval * 2 ** (this.failures / length - 1),
              this.options.maxBackoffMs ?? this.interval,
            );
    this.schedule(backoff);
  }

  private loseTouch(): void {
    if (this.lost) return;
    this.lost = true;
    this.options.onLost?.();
  }

  /** Moves to the next coordinator, if there are several. */
  private next(): void {
    if (this.options.coordinators.length === 1) return;
    this.connection?.destroy();
    this.connection = null;
    this.current = (this.current + 1) % this.options.coordinators.length;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), ms);
    this.timer.unref();
  }

  /** Tells the coordinator this joining node has its data, then fetches the new ring. */
  async ready(): Promise<void> {
    await this.send(['NODE_READY', this.options.host, this.options.port]);
    await this.refreshRing();
  }

  /**
   * Tells the coordinator this node is leaving (it leaves the target ring and keeps
   * serving reads while it hands off), then fetches the new ring.
   */
  async leaving(): Promise<void> {
    await this.send(['LEAVING', this.options.host, this.options.port]);
    await this.refreshRing();
  }

  private async register(): Promise<void> {
    // Always as a joining node: whether it is new, restarted, or was declared dead and has
    // missed writes, it copies its ranges before it serves reads. (The first node of a
    // cluster, with nobody to copy from, serves at once.)
    const args: CommandArg[] = ['REGISTER_NODE', this.options.host, this.options.port, 'JOINING'];
    if (this.options.zone) args.push('ZONE', this.options.zone);
    if (this.options.weight !== undefined) args.push('WEIGHT', this.options.weight);
    const reply = await this.send(args);
    this.registered = true;
    const epoch = Array.isArray(reply) ? Number(reply[1]) : Number.NaN;
    this.options.logger.info(
      `Coordinator response: OK Node ${this.options.host}:${this.options.port} registered (epoch ${epoch})`,
    );
  }

  private async refreshRing(): Promise<void> {
    // Derived from the rings held, so a change costs this node what the change touches.
    const held = this.rings;
    const rings = decodeRingReply(await this.send(['RING']), undefined, held);
    this.rings = rings;
    const { epoch, read, target } = rings;
    await this.options.beforeRing?.();
    this.epoch = epoch;
    this.options.onRing(read, target, epoch);
  }

  /** Sends a command to the coordinator over this link's connection (TIME, say). */
  request(args: CommandArg[]): Promise<RespValue> {
    return this.send(args);
  }

  private async send(args: CommandArg[]): Promise<RespValue> {
    if (!this.connection || this.connection.closed) {
      this.connection = await RespConnection.connect({
        ...(this.options.coordinators[this.current] as { host: string; port: number }),
        connectTimeoutMs: Math.max(this.interval, 1000),
        requestTimeoutMs: Math.max(this.interval, 1000),
        handshake: this.options.handshake,
        ...(this.options.connect && { connect: this.options.connect }),
      });
    }
    return this.connection.send(args);
  }
}

function describe(err: unknown): string {
  // Its code alone (NOAUTH) would not say that the secrets differ.
  if (err instanceof AuthenticationError) return err.message;
  if (err && typeof err === 'object' && 'code' in err && typeof err.code === 'string')
    return err.code;
  return err instanceof Error ? err.message : String(err);
}
