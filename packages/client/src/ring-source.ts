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
import { SourceRole, type SourceAttempt } from './source-attempt';

/** A ring and the epoch it was published at. */
export interface RingSnapshot {
  readonly epoch: number;
  readonly ring: Ring;
  /** The coordinator, seed or node (`host:port`) it was learned from. */
  readonly from: string;
}

/** How many nodes of the ring held to ask for the ring when no coordinator or seed answers. */
const NODES_TO_ASK = 3;

/** Options of {@link RingSource}. */
export interface RingSourceOptions {
  /** `host:port` of each coordinator, in the order to ask them; may be empty. */
  readonly coordinators: readonly string[];
  /** `host:port` of members to ask when no coordinator answers. */
  readonly seeds: readonly string[];
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
 * Keeps the client's copy of the ring. The coordinators are asked first, in order
 * (`RING known-epoch`, which costs a few bytes when nothing changed), and the first that
 * answers is authoritative: its ring is taken whatever its epoch, so a coordinator
 * restarted without its data still wins. When no coordinator answers, the seeds are asked,
 * then a few nodes of the ring held; a ring from them is taken only if it is newer than
 * ours (any ring when there is none yet): that is how a client bootstraps, and learns of a
 * join or a failure, while the coordinators are down. A member that answers an older epoch
 * than ours is passed over for the next. Concurrent refreshes share one round trip.
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
   * @throws {@link CoordinatorUnreachableError} listing every address tried when there is
   *   no ring yet and none gave one; `AuthenticationError` or a `NOAUTH`/`NOPERM`
   *   `ReplyError` when there is no ring yet and a server refused the credentials
   */
  refresh(): Promise<RingSnapshot> {
    this.inflight ??= this.fetch().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async fetch(): Promise<RingSnapshot> {
    const attempts: SourceAttempt[] = [];
    for (const address of this.options.coordinators) {
      try {
        const fetched = await this.ask(address);
        if (fetched && fetched.epoch !== this.snapshot?.epoch) this.adopt(fetched);
        if (this.snapshot) return this.snapshot;
      } catch (err) {
        attempts.push(this.failed(address, SourceRole.coordinator, err));
      }
    }
    for (const [address, role] of this.members()) {
      try {
        const fetched = await this.ask(address);
        const held = this.snapshot;
        // "Unchanged": this member routes with the epoch held.
        if (!fetched && held) return held;
        if (fetched && fetched.epoch > (held?.epoch ?? -1)) {
          this.adopt(fetched);
          return fetched;
        }
        // An older epoch than ours: a member behind the others; another may know better.
      } catch (err) {
        attempts.push(this.failed(address, role, err));
      }
    }
    if (this.snapshot) return this.snapshot;
    const [first] = attempts;
    throw new CoordinatorUnreachableError(first?.address ?? '', first?.reason ?? 'not asked', {
      attempts,
    });
  }

  /**
   * The members to ask when no coordinator answered: every seed, then up to
   * {@link NODES_TO_ASK} nodes of the ring held that are not backing off.
   */
  private members(): [string, SourceRole][] {
    const { seeds, coordinators, pool } = this.options;
    const asked = new Set([...coordinators, ...seeds]);
    const nodes = (this.snapshot?.ring.members ?? [])
      .map((m) => m.id)
      .filter((id) => !asked.has(id) && pool.isAvailable(id))
      .slice(0, NODES_TO_ASK);
    return [
      ...seeds.map((s): [string, SourceRole] => [s, SourceRole.seed]),
      ...nodes.map((n): [string, SourceRole] => [n, SourceRole.member]),
    ];
  }

  /**
   * The attempt to report for a failed `RING`. A refusal of the credentials is thrown while
   * there is no ring yet: the server was reached, and its refusal says more than
   * "unreachable" would (the same credentials go to every server).
   */
  private failed(address: string, role: SourceRole, err: unknown): SourceAttempt {
    if (!(err instanceof Error)) throw err;
    if (!this.snapshot && (err instanceof AuthenticationError || isAuthRefusal(err))) throw err;
    return { address, role, reason: err instanceof UnreachableError ? err.reason : err.message };
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
    return decoded && { epoch: decoded.epoch, ring: decoded.read, from };
  } catch (err) {
    if (err instanceof InvalidRingReplyError) throw new BadRingReplyError(from, err.detail);
    throw err;
  }
}

/** `-NOAUTH` or `-NOPERM`: the server wants credentials the client did not give. */
export function isAuthRefusal(err: Error): boolean {
  return (
    err instanceof ReplyError && (err.code === ErrorCode.NOAUTH || err.code === ErrorCode.NOPERM)
  );
}
