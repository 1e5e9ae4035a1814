import { ReplyError, type RespValue } from '@kv/protocol';
import type { RingOptions } from '@kv/ring';
import { EtcdCoordination } from './etcd-coordination';
import { NotLeaderError } from './errors';
import { FailureDetector } from './failure-detector';
import { LEASE_SAFETY, LeaderElection, Role } from './leader-election';
import type { LeaderForwarder } from './leader-forwarder';
import { Membership } from './membership';
import { capturingLogger } from './test-support/log-sink';
import { MemoryEtcd } from './test-support/memory-shared-store';

const TTL_S = 3;
const TTL_MS = TTL_S * 1000;
const FAILURE_MS = 5000;
let t: number;
const now = (): number => t;
/** Lets pending promise chains (a takeover reading the state) settle. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

beforeEach(() => {
  t = 1000;
  // Timers stand still unless a test moves them: every round below is run by hand.
  jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'performance'] });
});

afterEach(() => {
  jest.useRealTimers();
});

describe('LeaderElection', () => {
  function candidate(etcd: MemoryEtcd, name: string) {
    const events: string[] = [];
    const election = new LeaderElection({
      backend: etcd.view(),
      candidate: () => name,
      ttlSeconds: TTL_S,
      now,
      onElected: () => events.push('elected'),
      onDeposed: (reason) => events.push(`deposed: ${reason}`),
    });
    return { election, events };
  }

  /** Candidates a and b, one round each: a leads. */
  async function twoCandidates() {
    const etcd = new MemoryEtcd(now);
    const a = candidate(etcd, 'a:1');
    const b = candidate(etcd, 'b:1');
    await a.election.tick();
    await b.election.tick();
    return { etcd, a, b };
  }

  /** Runs the rounds of `b` on its interval (a runs none) until `done`. */
  async function runRounds(b: { election: LeaderElection }, done: () => boolean): Promise<void> {
    while (!done()) {
      t += b.election.intervalMs;
      await b.election.tick();
    }
  }

  it('elects the first candidate; the second follows and knows who leads', async () => {
    const { a, b } = await twoCandidates();
    expect([a.election.role, b.election.role]).toEqual([Role.LEADER, Role.FOLLOWER]);
    expect(b.election.leader).toBe('a:1');
    expect(a.events).toEqual(['elected']);
    expect(b.events).toEqual([]);
  });

  it('a leader that cannot renew stops leading by its own clock, before etcd ends its lease', async () => {
    const etcd = new MemoryEtcd(now);
    const a = candidate(etcd, 'a:1');
    await a.election.tick();
    etcd.unreachable = true;
    t += TTL_MS * LEASE_SAFETY - 1;
    await a.election.tick();
    expect(a.election.leads()).toBe(true);
    t += 1;
    expect(a.election.leads()).toBe(false);
    expect(a.events[1]).toMatch(/^deposed: its lease was not renewed in time/);
    etcd.unreachable = false;
    // etcd still holds its key: nobody else could have taken over yet.
    expect(etcd.leader).toBe('a:1');
  });

  it('a follower takes over once the dead leader lease expires, within twice the TTL', async () => {
    const { etcd, b } = await twoCandidates();
    const diedAt = t;
    // a is killed: it renews no more. b runs its rounds on its interval.
    await runRounds(b, () => b.election.leads());
    expect(t - diedAt).toBeGreaterThanOrEqual(TTL_MS);
    expect(t - diedAt).toBeLessThanOrEqual(2 * TTL_MS);
    expect(etcd.leader).toBe('b:1');
  });

  it('a leader paused past its lease does not lead when it resumes, and its lease is gone', async () => {
    const { a, b } = await twoCandidates();
    // a is paused; b runs its rounds on its interval and takes over.
    const pausedAt = t;
    await runRounds(b, () => t >= pausedAt + 2 * TTL_MS);
    expect(b.election.leads()).toBe(true);
    // a resumes: before any round of its own it already knows it does not lead.
    expect(a.election.leads()).toBe(false);
    await a.election.tick();
    await a.election.tick();
    expect(a.election.role).toBe(Role.FOLLOWER);
    expect(a.election.leader).toBe('b:1');
  });

  it('resigning hands the leadership over at once', async () => {
    const { a, b } = await twoCandidates();
    await a.election.stop();
    await b.election.tick();
    expect(b.election.leads()).toBe(true);
    expect(a.events).toEqual(['elected', 'deposed: this coordinator is stopping']);
  });
});

describe('EtcdCoordination', () => {
  function coordinator(
    etcd: MemoryEtcd,
    name: string,
    forward = jest.fn(),
    ring: RingOptions = {},
  ) {
    const { logger, lines } = capturingLogger();
    const membership = new Membership({ now, ring });
    const detector = new FailureDetector(membership, { failureTimeoutMs: FAILURE_MS });
    const store = etcd.view();
    const coordination = new EtcdCoordination({
      store,
      membership,
      detector,
      forwarder: { forward, close: () => undefined } as unknown as LeaderForwarder,
      candidate: () => name,
      ttlSeconds: TTL_S,
      now,
      logger,
    });
    /** Runs a membership change as the commands do: change, then commit. */
    const register = (id: string): Promise<void> => {
      const { change } = membership.register(id);
      return change ? coordination.commit(change, membership.toState()) : Promise.resolve();
    };
    return { coordination, membership, detector, store, lines, register };
  }

  async function leaderAndFollower(etcd: MemoryEtcd) {
    const a = coordinator(etcd, 'a:1');
    const b = coordinator(etcd, 'b:1');
    await a.coordination.start();
    await settle();
    await b.coordination.start();
    await settle();
    expect([a.coordination.role, b.coordination.role]).toEqual([Role.LEADER, Role.FOLLOWER]);
    return { a, b };
  }

  /** Moves the clock by `ms`, each coordinator running its rounds meanwhile. */
  async function run(ms: number, ...running: ReturnType<typeof coordinator>[]): Promise<void> {
    const until = t + ms;
    while (t < until) {
      t = Math.min(until, t + TTL_MS / 3);
      for (const c of running) await c.coordination.campaign();
      await settle();
    }
  }

  /** Runs `next` (the leader runs no more rounds) until it leads. */
  async function failOver(next: ReturnType<typeof coordinator>): Promise<void> {
    while (!next.coordination.leads()) {
      t += TTL_MS / 3;
      await next.coordination.campaign();
      await settle();
    }
  }

  it('the leader saves each change to the store; the follower answers reads from it', async () => {
    const etcd = new MemoryEtcd(now);
    const { a, b } = await leaderAndFollower(etcd);
    await a.register('n1:1');
    await a.register('n2:1');
    expect(etcd.history.map((s) => s.epoch)).toEqual([1, 2]);
    expect(b.membership.epoch).toBe(2);
    expect(b.membership.ring.has('n2:1')).toBe(true);
    expect(a.lines.join('\n')).toContain('Node n2:1 registered (no zone, weight 1), epoch 2');
  });

  it('a new leader declares no death before a full failure timeout of its own observation', async () => {
    const etcd = new MemoryEtcd(now);
    const { a, b } = await leaderAndFollower(etcd);
    await a.register('n1:1');
    // n1 falls silent long before the leader dies.
    t += FAILURE_MS * 10;
    await failOver(b);
    const tookOverAt = t;
    expect(b.lines.join('\n')).toMatch(
      /Leading the coordinators .*epoch 1001, 1 member\(s\) on probation/,
    );
    await run(FAILURE_MS - 1, b);
    expect(b.detector.check()).toEqual([]);
    await run(1, b);
    expect(t).toBe(tookOverAt + FAILURE_MS);
    const [death] = b.detector.check();
    expect(death).toMatchObject({ kind: 'died', epoch: 1002 });
    await b.coordination.commit(death!, b.membership.toState());
    expect(etcd.state?.epoch).toBe(1002);
    expect(etcd.state?.ring.members).toEqual([]);
  });

  it('a deposed leader cannot save: its change is dropped, answered -UNAVAILABLE and not logged as done', async () => {
    const etcd = new MemoryEtcd(now);
    const { a, b } = await leaderAndFollower(etcd);
    await a.register('n1:1');
    // etcd ends a's lease while a still believes it leads; b takes over and changes more.
    etcd.expireLeader();
    await b.coordination.campaign();
    await settle();
    expect(b.coordination.leads()).toBe(true);
    await b.register('n2:1');
    expect(a.coordination.leads()).toBe(true);
    const death = a.membership.markDead('n1:1');
    await expect(a.coordination.commit(death, a.membership.toState())).rejects.toThrow(
      /^UNAVAILABLE this coordinator could not save the change/,
    );
    await settle();
    expect(a.coordination.role).toBe(Role.FOLLOWER);
    expect(a.lines.join('\n')).not.toContain('marked as dead');
    expect(a.lines.join('\n')).toContain('Dropped a change of n1:1 (died)');
    // The store kept the new leader's state (its term began 1,000 epochs on), and a follows it again.
    expect(etcd.history.map((s) => s.epoch)).toEqual([1, 1001, 1002]);
    expect(etcd.state?.ring.members.map((m) => m.id)).toEqual(['n1:1', 'n2:1']);
    expect(a.membership.ring.has('n1:1')).toBe(true);
  });

  it('a store that refuses a save fences it even when the leader checks nothing itself', async () => {
    const etcd = new MemoryEtcd(now);
    const { a } = await leaderAndFollower(etcd);
    etcd.expireLeader();
    await expect(a.store.save(a.membership.toState())).rejects.toThrow(NotLeaderError);
    expect(etcd.history).toEqual([]);
  });

  it('epochs never go back across failovers, and each term starts past any epoch the last leader showed', async () => {
    const etcd = new MemoryEtcd(now);
    const { a, b } = await leaderAndFollower(etcd);
    const c = coordinator(etcd, 'c:1');
    await c.coordination.start();
    await a.register('n1:1');
    await failOver(b);
    await b.register('n2:1');
    await failOver(c);
    await c.register('n3:1');
    const epochs = etcd.history.map((s) => s.epoch);
    expect(epochs).toEqual([1, 1001, 1002, 2002, 2003]);
    expect(c.membership.epoch).toBe(2003);
  });

  it('drops a change it cannot save while etcd is unreachable: -UNAVAILABLE, resigns, back to the saved epoch', async () => {
    const etcd = new MemoryEtcd(now);
    const { a, b } = await leaderAndFollower(etcd);
    await a.register('n1:1');
    etcd.unreachable = true;
    // Members may have seen epoch 2 while the save was under way; it is never saved.
    await expect(a.register('n2:1')).rejects.toThrow(
      /^UNAVAILABLE this coordinator could not save the change/,
    );
    expect(a.coordination.leads()).toBe(false);
    expect(a.lines.join('\n')).toContain('Dropped a change of n2:1 (joined)');
    expect(a.lines.join('\n')).not.toMatch(/Node n2:1 (registered|joining)/);
    // Back to the last epoch saved, though etcd cannot be read: the unsaved ring is not served.
    expect(a.membership.epoch).toBe(1);
    expect(a.membership.ring.has('n2:1')).toBe(false);
    etcd.unreachable = false;
    await failOver(b);
    // The next term starts past epoch 2, so no epoch names both a's unsaved ring and b's.
    await b.register('n3:1');
    expect(etcd.history.map((s) => s.epoch)).toEqual([1, 1001, 1002]);
    expect(etcd.state?.ring.members.map((m) => m.id)).toEqual(['n1:1', 'n3:1']);
  });

  it('a coordinator whose ring flags differ from the ring in etcd warns, and leads with the ring in etcd', async () => {
    const etcd = new MemoryEtcd(now);
    const a = coordinator(etcd, 'a:1', jest.fn(), { replicationFactor: 3 });
    await a.coordination.start();
    await settle();
    await a.register('n1:1');
    await a.coordination.close();
    const b = coordinator(etcd, 'b:1', jest.fn(), { replicationFactor: 2 });
    await b.coordination.start();
    await failOver(b);
    expect(b.membership.toState().ring.replicationFactor).toBe(3);
    expect(b.lines.join('\n')).toMatch(
      /Using the ring options saved in .*: replicationFactor 3 \(configured: 2\)\. Changing them would move every key/,
    );
    expect(a.lines.join('\n')).not.toMatch(/Using the ring options/);
    await b.coordination.close();
  });

  it('a follower forwards membership changes to the leader and catches up with the epoch it answers', async () => {
    const etcd = new MemoryEtcd(now);
    const forward = jest.fn(async (): Promise<RespValue> => {
      await a.register('n1:1');
      return [Buffer.from('n1:1'), 1];
    });
    const a = coordinator(etcd, 'a:1');
    await a.coordination.start();
    await settle();
    const b = coordinator(etcd, 'b:1', forward);
    await b.coordination.start();
    await settle();
    const args = [Buffer.from('REGISTER_NODE'), Buffer.from('n1'), Buffer.from('1')];
    expect(a.coordination.route(args)).toBeUndefined();
    expect(await b.coordination.route(args)).toEqual([Buffer.from('n1:1'), 1]);
    expect(forward).toHaveBeenCalledWith('a:1', args);
    expect(b.membership.epoch).toBe(1);
    expect(() => b.coordination.assertLeads()).toThrow(ReplyError);
  });

  it('with no leader, a follower answers membership changes -UNAVAILABLE instead of forwarding', async () => {
    const etcd = new MemoryEtcd(now);
    etcd.unreachable = true;
    const a = coordinator(etcd, 'a:1');
    await expect(a.coordination.start()).rejects.toThrow('etcd unreachable');
    expect(() => a.coordination.route([Buffer.from('HEARTBEAT')])).toThrow(
      /^UNAVAILABLE no coordinator leads at the moment/,
    );
  });
});
