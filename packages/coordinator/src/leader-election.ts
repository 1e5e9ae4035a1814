import { LeaseLostError } from './errors';

/** What a coordinator is among several sharing one store. */
export const Role = {
  /** Holds the leader key under a live lease: decides deaths and writes the membership. */
  LEADER: 'leader',
  /** Answers reads from the shared state and forwards membership changes to the leader. */
  FOLLOWER: 'follower',
} as const;

/** One of the {@link Role} values. */
export type Role = (typeof Role)[keyof typeof Role];

/**
 * An election as a consensus store offers it: leases that live while they are renewed,
 * and one leader key that a lease holds until the lease ends. {@link EtcdStore} implements
 * it on etcd; tests implement it in memory.
 */
export interface ElectionBackend {
  /** Grants a new lease living `ttlSeconds` without renewal; resolves to its id. */
  grant(ttlSeconds: number): Promise<string>;
  /**
   * Renews `lease` for its whole TTL.
   * @throws {@link LeaseLostError} when the store no longer knows the lease (it expired)
   */
  keepAlive(lease: string): Promise<void>;
  /**
   * Puts `candidate` in the leader key under `lease` unless another lease holds it.
   * @returns whether `lease` holds the key now, and the value (leader address) it holds
   */
  campaign(
    lease: string,
    candidate: string,
  ): Promise<{ readonly won: boolean; readonly leader: string | undefined }>;
  /** Ends `lease` at once, and so its hold on the leader key. */
  revoke(lease: string): Promise<void>;
}

/** Options of {@link LeaderElection}. */
export interface LeaderElectionOptions {
  readonly backend: ElectionBackend;
  /**
   * This coordinator's address, the value of the leader key while it leads; read at each
   * campaign, as it is known only once the coordinator listens.
   */
  readonly candidate: () => string;
  /** Seconds a lease lives without renewal. */
  readonly ttlSeconds: number;
  /** Monotonic clock in milliseconds. */
  readonly now: () => number;
  /** Told when this candidate starts leading, with the lease that fences its writes. */
  readonly onElected: (lease: string) => void;
  /** Told when it stops leading, and why. */
  readonly onDeposed: (reason: string) => void;
  /** Told of a failed round with the store; the election keeps trying. */
  readonly onError?: (err: unknown) => void;
  /** Told of each round the store answered. */
  readonly onAnswered?: () => void;
}

/**
 * Fraction of the TTL after the last renewal was *sent* during which a leader still acts
 * as one. etcd counts the TTL from the moment the renewal arrived, later than it was sent,
 * so a leader stops deciding before etcd can hand the key to another candidate.
 */
export const LEASE_SAFETY = 0.8;

/**
 * Leadership among coordinators through a lease and one leader key. {@link tick} is the
 * whole decision (renew or obtain a lease, then campaign while following) and reads an
 * injected clock, so it is tested with a fake backend and a fake clock; {@link start} runs
 * it every third of the TTL.
 *
 * A leader {@link leads} only while its lease is surely alive by its own clock: renewed
 * less than `LEASE_SAFETY × TTL` ago, counted from when the renewal was sent. A paused or
 * partitioned leader therefore stops acting as one before etcd can expire its lease, and
 * whatever it still tries to write is refused by the store (writes are fenced by the lease).
 */
export class LeaderElection {
  private lease: string | undefined;
  private validUntil = -Infinity;
  private leading = false;
  private known: string | undefined;
  private running: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly options: LeaderElectionOptions) {}

  /** Milliseconds between rounds: a third of the TTL, as etcd's own clients renew. */
  get intervalMs(): number {
    return (this.options.ttlSeconds * 1000) / 3;
  }

  /** True while this candidate leads and its lease is surely alive. */
  leads(): boolean {
    this.checkExpiry();
    return this.leading;
  }

  /** `leader` or `follower`. */
  get role(): Role {
    return this.leads() ? Role.LEADER : Role.FOLLOWER;
  }

  /** The leader's address as last seen in the store, or undefined when none was seen. */
  get leader(): string | undefined {
    return this.leads() ? this.options.candidate() : this.known;
  }

  /**
   * One round: renews the lease (or obtains one), then, while following, campaigns.
   * Never rejects: failures go to `onError`.
   */
  tick(): Promise<void> {
    this.running ??= this.round().finally(() => (this.running = undefined));
    return this.running;
  }

  /** Runs {@link tick} now and then every {@link intervalMs}; the timer does not hold the process. */
  start(): void {
    if (this.timer || this.stopped) return;
    void this.tick();
    this.timer = setInterval(() => {
      // A round stuck on an unreachable store must not keep a leader leading.
      this.checkExpiry();
      void this.tick();
    }, this.intervalMs);
    this.timer.unref();
  }

  /**
   * Stops campaigning and gives up leadership: the lease is revoked so another candidate
   * takes over at once rather than after the TTL.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
    await this.resign('this coordinator is stopping');
  }

  /**
   * Stops leading now (a write was refused, the state could not be read) and revokes the
   * lease, so another candidate can take over at once.
   */
  async resign(reason: string): Promise<void> {
    this.depose(reason);
    const lease = this.lease;
    this.lease = undefined;
    this.validUntil = -Infinity;
    if (lease === undefined) return;
    try {
      await this.options.backend.revoke(lease);
    } catch (err) {
      this.options.onError?.(err);
    }
  }

  private async round(): Promise<void> {
    if (this.stopped) return;
    const { backend, ttlSeconds, candidate, now } = this.options;
    const sentAt = now();
    try {
      if (this.lease === undefined) this.lease = await backend.grant(ttlSeconds);
      else await backend.keepAlive(this.lease);
      this.validUntil = sentAt + ttlSeconds * 1000 * LEASE_SAFETY;
      if (!this.leads() && !this.stopped) {
        const { won, leader } = await backend.campaign(this.lease, candidate());
        this.known = leader;
        if (won && !this.stopped && now() < this.validUntil) {
          this.leading = true;
          this.options.onElected(this.lease);
        }
      }
      this.options.onAnswered?.();
    } catch (err) {
      if (err instanceof LeaseLostError) {
        this.lease = undefined;
        this.validUntil = -Infinity;
        this.depose('its etcd lease expired');
      }
      this.checkExpiry();
      this.options.onError?.(err);
    }
  }

  private checkExpiry(): void {
    if (this.leading && this.options.now() >= this.validUntil)
      this.depose('its lease was not renewed in time (store unreachable, or this process paused)');
  }

  private depose(reason: string): void {
    if (!this.leading) return;
    this.leading = false;
    this.known = undefined;
    this.options.onDeposed(reason);
  }
}
