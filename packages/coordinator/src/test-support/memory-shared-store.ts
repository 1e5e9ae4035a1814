import type { SharedStore } from '../etcd-coordination';
import { LeaseLostError, NotLeaderError } from '../errors';
import type { MembershipState } from '../membership';

/**
 * etcd as the coordinators use it, in memory on a fake clock: leases expire `ttl` seconds
 * after their last renewal by `now()`, the leader key is held by a lease, and saves are
 * fenced by it. Each coordinator gets a {@link view} of its own (its own fence), as each
 * has its own etcd client.
 */
export class MemoryEtcd {
  /** Saved states, oldest first. */
  readonly history: MembershipState[] = [];
  /** Set to make every request fail as if etcd were unreachable. */
  unreachable = false;
  private readonly leases = new Map<string, { ttlMs: number; expiresAt: number }>();
  private leaderKey: { value: string; lease: string } | undefined;
  private watchers: ((state: MembershipState) => void)[] = [];
  private nextLease = 1;

  constructor(private readonly now: () => number) {}

  /** The state saved last. */
  get state(): MembershipState | undefined {
    return this.history[this.history.length - 1];
  }

  /** The address in the leader key, once expired leases are swept. */
  get leader(): string | undefined {
    this.sweep();
    return this.leaderKey?.value;
  }

  /** A client of this store, as one coordinator holds it. */
  view(): SharedStore {
    let fence: string | undefined;
    const check = (): void => {
      if (this.unreachable) throw new Error('etcd unreachable');
      this.sweep();
    };
    // Settled like a network answer: a throw becomes a rejection.
    const answer = <T>(result: () => T): Promise<T> => new Promise((resolve) => resolve(result()));
    return {
      location: 'memory://etcd',
      load: () =>
        answer(() => {
          check();
          return this.state;
        }),
      save: (state) =>
        answer(() => {
          check();
          if (fence === undefined || this.leaderKey?.lease !== fence) throw new NotLeaderError();
          this.history.push(state);
          for (const watcher of this.watchers) watcher(state);
        }),
      fenceWith: (lease) => {
        fence = lease;
      },
      watch: (onState) =>
        answer(() => {
          check();
          this.watchers.push(onState);
        }),
      close: () => answer(() => undefined),
      grant: (ttlSeconds) =>
        answer(() => {
          check();
          const id = String(this.nextLease++);
          const ttlMs = ttlSeconds * 1000;
          this.leases.set(id, { ttlMs, expiresAt: this.now() + ttlMs });
          return id;
        }),
      keepAlive: (id) =>
        answer(() => {
          check();
          const lease = this.leases.get(id);
          if (lease === undefined) throw new LeaseLostError(id);
          lease.expiresAt = this.now() + lease.ttlMs;
        }),
      campaign: (lease, candidate) =>
        answer(() => {
          check();
          if (!this.leases.has(lease)) throw new LeaseLostError(lease);
          this.leaderKey ??= { value: candidate, lease };
          return { won: this.leaderKey.lease === lease, leader: this.leaderKey.value };
        }),
      revoke: (id) =>
        answer(() => {
          check();
          this.leases.delete(id);
          this.sweep();
        }),
    };
  }

  /** Ends the lease holding the leader key now, as etcd does when its TTL runs out. */
  expireLeader(): void {
    if (this.leaderKey) this.leases.delete(this.leaderKey.lease);
    this.sweep();
  }

  private sweep(): void {
    const now = this.now();
    for (const [id, lease] of this.leases) if (lease.expiresAt <= now) this.leases.delete(id);
    if (this.leaderKey && !this.leases.has(this.leaderKey.lease)) this.leaderKey = undefined;
  }
}
