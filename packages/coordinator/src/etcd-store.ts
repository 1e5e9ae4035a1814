import { Etcd3, EtcdLeaseInvalidError, type Lease, type Watcher } from 'etcd3';
import { EtcdStateError, EtcdUnavailableError, LeaseLostError, NotLeaderError } from './errors';
import type { SharedStore } from './etcd-coordination';
import type { MembershipState } from './membership';
import { decodeState, encodeState } from './state-store';

/** Options of {@link EtcdStore}. */
export interface EtcdStoreOptions {
  /** `host:port` of each etcd member. */
  readonly endpoints: readonly string[];
  /** Prefix of the keys, ending with `/`. */
  readonly prefix: string;
  /**
   * Longest wait for one etcd request.
   * @default 2000
   */
  readonly callTimeoutMs?: number;
}

/** Key of the leader (value: its address; held by its lease), under the prefix. */
export const LEADER_KEY = 'leader';
/** Key of the membership state (JSON, as the state file), under the prefix. */
export const STATE_KEY = 'state';

/**
 * The membership and the leader election of several coordinators, kept in etcd. The
 * state is one key holding the state file's JSON; the leader key holds the leader's
 * address under its lease. Every state write is a transaction that succeeds only while
 * the leader key is held by the lease given to {@link fenceWith}: a coordinator whose lease
 * expired (paused, partitioned, deposed) cannot overwrite the new leader's state.
 */
export class EtcdStore implements SharedStore {
  readonly location: string;
  private readonly client: Etcd3;
  private readonly leaderKey: string;
  private readonly stateKey: string;
  private readonly callTimeoutMs: number;
  private readonly leases = new Map<string, Lease>();
  private fence: string | undefined;
  private saving: Promise<void> = Promise.resolve();
  private watcher: Watcher | undefined;
  private closed = false;

  constructor(options: EtcdStoreOptions) {
    const { endpoints, prefix } = options;
    this.location = `etcd://${endpoints.join(',')}${prefix.replace(/\/$/, '')}`;
    this.leaderKey = `${prefix}${LEADER_KEY}`;
    this.stateKey = `${prefix}${STATE_KEY}`;
    this.callTimeoutMs = options.callTimeoutMs ?? 2000;
    this.client = new Etcd3({
      hosts: endpoints.map((address) => `http://${address}`),
      dialTimeout: this.callTimeoutMs,
      // Streams (watch, lease renewal) live long: only single requests get a deadline.
      defaultCallOptions: (context) =>
        context.isStream ? {} : { deadline: Date.now() + this.callTimeoutMs },
    });
  }

  /**
   * Makes every later {@link save} conditional on the leader key being held by `lease`;
   * undefined refuses every save.
   */
  fenceWith(lease: string | undefined): void {
    this.fence = lease;
  }

  async load(): Promise<MembershipState | undefined> {
    const text = await this.call(() => this.client.get(this.stateKey).string());
    return text === null ? undefined : this.decode(text);
  }

  /** @throws {@link NotLeaderError} when the leader key is not held by the fencing lease */
  save(state: MembershipState): Promise<void> {
    const lease = this.fence;
    const write = this.saving
      .catch(() => undefined)
      .then(async () => {
        if (lease === undefined || lease !== this.fence) throw new NotLeaderError();
        const result = await this.call(() =>
          this.client
            .if(this.leaderKey, 'Lease', '==', lease)
            .then(this.client.put(this.stateKey).value(encodeState(state)))
            .commit(),
        );
        if (!result.succeeded)
          throw new NotLeaderError(
            'etcd refused the write: this coordinator no longer holds the leader key',
          );
      });
    this.saving = write;
    return write;
  }

  /** Calls `onState` with each state written to etcd from now on (by any coordinator). */
  async watch(
    onState: (state: MembershipState) => void,
    onError: (err: unknown) => void,
  ): Promise<void> {
    const watcher = await this.call(() => this.client.watch().key(this.stateKey).create());
    watcher.on('put', (kv) => {
      try {
        onState(this.decode(kv.value.toString('utf8')));
      } catch (err) {
        onError(err);
      }
    });
    watcher.on('error', onError);
    this.watcher = watcher;
  }

  async grant(ttlSeconds: number): Promise<string> {
    const lease = this.client.lease(ttlSeconds, { autoKeepAlive: false });
    // A lease whose grant failed reports the failure through this event too.
    lease.on('lost', () => undefined);
    const id = await this.call(() => lease.grant());
    this.leases.set(id, lease);
    return id;
  }

  async keepAlive(id: string): Promise<void> {
    const lease = this.leases.get(id);
    if (lease === undefined) throw new LeaseLostError(id);
    try {
      await this.call(() => lease.keepaliveOnce());
    } catch (err) {
      if (err instanceof EtcdUnavailableError && err.cause instanceof EtcdLeaseInvalidError) {
        this.leases.delete(id);
        throw new LeaseLostError(id, { cause: err.cause });
      }
      throw err;
    }
  }

  async campaign(
    lease: string,
    candidate: string,
  ): Promise<{ readonly won: boolean; readonly leader: string | undefined }> {
    const result = await this.call(() =>
      this.client
        .if(this.leaderKey, 'Create', '==', 0)
        .then(this.client.put(this.leaderKey).value(candidate).lease(lease))
        .else(this.client.get(this.leaderKey))
        .commit(),
    );
    if (result.succeeded) return { won: true, leader: candidate };
    const holder = result.responses[0]?.response_range?.kvs?.[0];
    return {
      // Our own lease may hold the key still, after a renewal was late.
      won: holder?.lease === lease,
      leader: holder?.value.toString('utf8'),
    };
  }

  async revoke(id: string): Promise<void> {
    const lease = this.leases.get(id);
    this.leases.delete(id);
    await this.call(() => lease?.revoke() ?? Promise.resolve());
  }

  /** Stops watching and closes the connections to etcd. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.watcher?.cancel().catch(() => undefined);
    this.client.close();
  }

  private decode(text: string): MembershipState {
    return decodeState(text, (problem, cause) => {
      throw new EtcdStateError(this.stateKey, problem, { cause });
    });
  }

  /** Runs an etcd request within the call timeout; failures become {@link EtcdUnavailableError}. */
  private async call<T>(request: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${this.callTimeoutMs} ms`)),
        this.callTimeoutMs,
      );
    });
    try {
      return await Promise.race([request(), timeout]);
    } catch (err) {
      throw new EtcdUnavailableError(this.location, { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }
}
