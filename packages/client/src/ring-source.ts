import {
  AuthenticationError,
  ErrorCode,
  ReplyError,
  UnreachableError,
  type ConnectionPool,
  type RespValue,
} from '@kv/protocol';
import { InvalidRingReplyError, decodeRingReply, type Ring } from '@kv/ring';
import { ClientError, CoordinatorUnreachableError } from './errors';

/** A ring and the epoch it was published at. */
export interface RingSnapshot {
  readonly epoch: number;
  readonly ring: Ring;
}

/** How many nodes to ask for the ring when the coordinator cannot be reached. */
const NODES_TO_ASK = 3;

/** Options of {@link RingSource}. */
export interface RingSourceOptions {
  /** `host:port` of the coordinator. */
  readonly coordinator: string;
  /** Where requests go; shared with the client so node connections are reused. */
  readonly pool: ConnectionPool;
  /** Time to wait for a `RING` reply. */
  readonly timeoutMs: number;
  /** Called when a different ring is adopted. */
  readonly onChange?: (snapshot: RingSnapshot, previous: RingSnapshot | undefined) => void;
}

/** The reply to `RING [known-epoch]` was not `[epoch]` or `[epoch, json]`. */
class BadRingReplyError extends ClientError {
  constructor(from: string, detail: string) {
    super(`${from} sent an invalid RING reply: ${detail}`);
    this.name = 'BadRingReplyError';
  }
}

/**
 * Keeps the client's copy of the ring. The coordinator is asked first (`RING known-epoch`,
 * which costs a few bytes when nothing changed) and is authoritative: its ring is taken
 * whatever its epoch, so a coordinator restarted without its data still wins. When the
 * coordinator cannot be reached, nodes of the current ring are asked, and a node's ring is
 * taken only if it is newer than ours: that is how a client learns of a join or a failure
 * while the coordinator is down. Concurrent refreshes share one round trip.
 */
export class RingSource {
  private snapshot: RingSnapshot | undefined;
  private inflight: Promise<RingSnapshot> | undefined;

  constructor(private readonly options: RingSourceOptions) {}

  /** The ring held now, if any has been fetched. */
  get current(): RingSnapshot | undefined {
    return this.snapshot;
  }

  /** The ring held, fetching it first if there is none. */
  async load(): Promise<RingSnapshot> {
    return this.snapshot ?? (await this.refresh());
  }

  /**
   * Asks for a newer ring. Resolves with the ring held afterwards, which is the old one
   * when no source could be reached.
   *
   * @throws {@link CoordinatorUnreachableError} when there is no ring yet and the
   *   coordinator cannot be reached
   */
  refresh(): Promise<RingSnapshot> {
    this.inflight ??= this.fetch().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async fetch(): Promise<RingSnapshot> {
    const { coordinator } = this.options;
    let coordinatorError: Error;
    try {
      const fetched = await this.ask(coordinator);
      if (fetched && fetched.epoch !== this.snapshot?.epoch) this.adopt(fetched);
      return this.snapshot ?? this.fail(coordinator, new BadRingReplyError(coordinator, 'no ring'));
    } catch (err) {
      if (!(err instanceof Error)) throw err;
      coordinatorError = err;
    }
    const held = this.snapshot;
    if (!held) return this.fail(coordinator, coordinatorError);
    const nodes = held.ring.members
      .map((m) => m.id)
      .filter((id) => this.options.pool.isAvailable(id))
      .slice(0, NODES_TO_ASK);
    for (const node of nodes) {
      try {
        const fetched = await this.ask(node);
        if (fetched && fetched.epoch > (this.snapshot?.epoch ?? -1)) this.adopt(fetched);
        break;
      } catch {
        // Try the next node; the ring held stays usable.
      }
    }
    return this.snapshot ?? held;
  }

  private fail(coordinator: string, err: Error): never {
    // The coordinator was reached: its refusal says more than "unreachable" would.
    if (err instanceof AuthenticationError || isAuthRefusal(err)) throw err;
    const reason = err instanceof UnreachableError ? err.reason : err.message;
    throw new CoordinatorUnreachableError(coordinator, reason, { cause: err });
  }

  /** `RING known-epoch` to one server: a new snapshot, or undefined when ours is current. */
  private async ask(address: string): Promise<RingSnapshot | undefined> {
    const known = this.snapshot?.epoch ?? -1;
    const reply = await this.options.pool.send(address, ['RING', String(known)], {
      timeoutMs: this.options.timeoutMs,
    });
    return parseRingReply(address, reply, known, this.snapshot?.ring);
  }

  private adopt(next: RingSnapshot): void {
    const previous = this.snapshot;
    this.snapshot = next;
    this.options.onChange?.(next, previous);
  }
}

/**
 * Reads `[epoch]` (unchanged since `known`) or `[epoch, ring JSON, ...]`, keeping the ring
 * reads are routed by: clients send reads and writes by it. With the ring held before
 * (`held`), the new one is derived from it rather than built whole.
 */
export function parseRingReply(
  from: string,
  reply: RespValue,
  known: number,
  held?: Ring,
): RingSnapshot | undefined {
  try {
    const decoded = decodeRingReply(reply, known, held && { read: held });
    return decoded && { epoch: decoded.epoch, ring: decoded.read };
  } catch (err) {
    if (err instanceof InvalidRingReplyError) throw new BadRingReplyError(from, err.detail);
    throw err;
  }
}

/** `-NOAUTH` or `-NOPERM`: the server wants credentials the client did not give. */
function isAuthRefusal(err: Error): boolean {
  return (
    err instanceof ReplyError && (err.code === ErrorCode.NOAUTH || err.code === ErrorCode.NOPERM)
  );
}
