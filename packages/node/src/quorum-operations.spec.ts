import {
  OverloadedError,
  ReplyError,
  RespParser,
  type ServerConnection,
  encodeCommand,
  encodeReply,
  type CommandArg,
  type ConnectionPool,
  type Reply,
  type RespValue,
} from '@kv/protocol';
import { RingEpoch, token } from '@kv/ring';
import { HintStore } from './hints';
import { HybridLogicalClock, LOGICAL_BITS } from './hlc';
import { MemoryEngine } from './memory-engine';
import { NodeMetrics } from './metrics';
import { NodeCommand, replicateBatchArgs } from './replication';
import { PeerClient } from './peer-client';
import { PEER_COMMANDS, type PeerContext } from './peer-commands';
import { ClockOffsetMonitor } from './clock-offset';
import { QuorumOperations } from './quorum-operations';
import { WriteGate } from './write-gate';
import { Replicas } from './replica';
import type { StoredRecord } from './record';
import { Store } from './store';
import { UnsyncedRanges } from './unsynced-ranges';
import { serveAsReplica } from './test-support/replica-server';
import { ringOf } from './test-support/rings';

// Deterministic replicas: each is a Store of its own with a frozen wall clock, reached
// through a pool that calls it directly (no sockets, no timers).
const WALL_MS = 1_700_000_000_000;
const ids = ['127.0.0.1:5001', '127.0.0.1:5002', '127.0.0.1:5003'] as const;

function replicaStores(): Map<string, Store> {
  return new Map(
    ids.map((id) => [id, new Store(new MemoryEngine(), new HybridLogicalClock(() => WALL_MS))]),
  );
}

/** What a RESP frame decodes to on the other side of a socket. */
function overTheWire<T extends RespValue>(bytes: Buffer, mode: 'request' | 'reply'): T {
  let message: unknown;
  new RespParser(mode).feed(bytes, (m) => (message = m));
  return message as T;
}

/** How the replicas of {@link poolOf} behave, and what they were sent. */
interface ReplicaFaults {
  /** Unreachable. */
  down?: ReadonlySet<string>;
  /** Refuse to answer a read alone. */
  stale?: ReadonlySet<string>;
  /** Refuse every replica write, their clock being fenced. */
  fenced?: ReadonlySet<string>;
  /** Have a full queue: requests fail as overloaded, unsent. */
  busy?: ReadonlySet<string>;
  /** Still at ring epoch 0: they answer alone only to an asker that gives no newer epoch. */
  behind?: ReadonlySet<string>;
  /** Each request a replica was sent: `id COMMAND` and, for a batch, its record count. */
  sent?: string[];
}

/**
 * A pool that serves REPLICATE, REPLICATE_BATCH and FETCH from in-process stores, through
 * the commands' declarations and over the wire encoding (no sockets, no timers).
 */
function poolOf(
  stores: Map<string, Store>,
  {
    down = new Set(),
    stale = new Set(),
    fenced = new Set(),
    busy = new Set(),
    behind = new Set(),
    sent,
  }: ReplicaFaults = {},
): ConnectionPool {
  const serve = async (id: string, store: Store, args: Buffer[]): Promise<Reply> => {
    const name = args[0]?.toString();
    sent?.push(
      name === NodeCommand.replicateBatch ? `${id} ${name} ${String(args[1])}` : `${id} ${name}`,
    );
    if (name === NodeCommand.fetch) {
      const context = {
        store,
        answersAlone: (_key: Buffer, askerEpoch?: number) =>
          !stale.has(id) && !(behind.has(id) && askerEpoch !== undefined && askerEpoch > 0),
      } as unknown as PeerContext;
      return PEER_COMMANDS[NodeCommand.fetch]?.run(args, context, {} as ServerConnection) ?? null;
    }
    return serveAsReplica(store, args, () => {
      if (fenced.has(id)) throw new ReplyError(`CLOCKSKEW ${id} is fenced`);
    });
  };
  const send = async (id: string, args: CommandArg[]): Promise<RespValue> => {
    const store = stores.get(id);
    if (!store || down.has(id)) throw new Error(`connect ECONNREFUSED ${id}`);
    if (busy.has(id)) throw new OverloadedError(id, '2 requests already pending; not sent');
    const request = overTheWire<Buffer[]>(encodeCommand(args), 'request');
    const reply = await Promise.resolve()
      .then(() => serve(id, store, request))
      .catch((err: unknown) => err as ReplyError);
    const answer = overTheWire<RespValue>(encodeReply(reply), 'reply');
    if (answer instanceof ReplyError) throw answer;
    return answer;
  };
  return { send, isAvailable: (id: string) => !down.has(id) } as unknown as ConnectionPool;
}

function coordinatorAt(
  selfId: string,
  stores: Map<string, Store>,
  members: readonly string[],
  options: ReplicaFaults & {
    writeQuorum?: number;
    hints?: HintStore;
    metrics?: NodeMetrics;
    gate?: WriteGate;
    clock?: HybridLogicalClock;
    placement?: RingEpoch;
    unsynced?: UnsyncedRanges;
  } = {},
): QuorumOperations {
  const ring = ringOf(members);
  const placement = options.placement ?? new RingEpoch(1, ring, ring);
  const clock = options.clock ?? new HybridLogicalClock(() => WALL_MS);
  const peers = new PeerClient(poolOf(stores, options), options.metrics);
  return new QuorumOperations({
    selfId,
    replicas: new Replicas(selfId, stores.get(selfId) as Store, peers, clock),
    clock,
    placement: () => placement,
    hints: options.hints ?? new HintStore({}),
    writeQuorum: options.writeQuorum ?? 2,
    readQuorum: 1,
    metrics: options.metrics ?? new NodeMetrics(),
    gate: options.gate ?? gateOf(),
    unsynced: options.unsynced ?? new UnsyncedRanges(selfId),
  });
}

/**
 * A gate with a 5 ms bound (failed writes answer 10 ms after their stamp), whose clock
 * samples say this node is `offsetMs` off, and whose requests waited `waitedMs`.
 */
function gateOf(
  options: {
    offsetMs?: number;
    waitedMs?: number | (() => number);
    maxOffsetMs?: number;
    unmeasured?: boolean;
  } = {},
) {
  const monitor = new ClockOffsetMonitor({ maxOffsetMs: options.maxOffsetMs ?? 5 });
  const metrics = new NodeMetrics();
  const others = WALL_MS - (options.offsetMs ?? 0);
  if (!options.unmeasured)
    for (const source of ['coordinator', ids[1], ids[2]])
      monitor.record(source, { sentAt: WALL_MS, remoteAt: others, receivedAt: WALL_MS });
  const waited = options.waitedMs ?? 0;
  const gate = new WriteGate({
    monitor,
    waited: typeof waited === 'number' ? () => waited : waited,
    writeDeadlineMs: 2000,
    now: () => WALL_MS,
    metrics,
  });
  gate.update();
  return Object.assign(gate, { metrics });
}

/**
 * Replicas of which the two others hold a rival record of `key`, written by a node with a
 * larger id (so it wins the tie) at exactly the timestamp this node's frozen clock stamps
 * next.
 */
async function storesWithRival(key: Buffer): Promise<Map<string, Store>> {
  const stores = replicaStores();
  const rival = {
    value: Buffer.from('rival'),
    ts: WALL_MS * 2 ** LOGICAL_BITS,
    origin: ids[2],
    expiresAt: 0,
  };
  for (const id of [ids[1], ids[2]]) await (stores.get(id) as Store).apply(key, rival);
  return stores;
}

describe('QuorumOperations writes', () => {
  const key = Buffer.from('user:1');

  it('does not count a replica holding another origin at the same timestamp as an ack', async () => {
    const stores = await storesWithRival(key);

    const metrics = new NodeMetrics();
    const coordinator = coordinatorAt(ids[0], stores, ids, { metrics });
    await coordinator.write(key, Buffer.from('mine'), 0);

    // The acknowledged write is what a quorum of replicas holds: it was re-versioned past
    // the rival instead of being acknowledged on the strength of an equal timestamp.
    const held = ids.map((id) => (stores.get(id) as Store).read(key));
    expect(held.filter((r) => r?.value?.toString() === 'mine').length).toBeGreaterThanOrEqual(2);
    for (const record of held) expect(record?.origin).toBe(ids[0]);
    expect(metrics.counters.versionRetries.value).toBe(1);
  });

  it('acknowledges a replica that already holds exactly the version sent', async () => {
    const stores = replicaStores();
    const coordinator = coordinatorAt(ids[0], stores, ids, { writeQuorum: 3 });
    await coordinator.write(key, Buffer.from('v'), 0);
    const record = (stores.get(ids[1]) as Store).read(key);
    const again = await (stores.get(ids[1]) as Store).apply(
      key,
      record as NonNullable<typeof record>,
    );
    expect(again).toMatchObject({ applied: false, ts: record?.ts, origin: ids[0] });
  });

  it('refuses a W=2 write when the ring has a single replica for the key, writing nothing', async () => {
    const stores = replicaStores();
    // The ring of a node cut off with the coordinator: every other member declared dead.
    const metrics = new NodeMetrics();
    const coordinator = coordinatorAt(ids[0], stores, [ids[0]], { metrics });
    await expect(
      Promise.resolve().then(() => coordinator.write(key, Buffer.from('v'), 0)),
    ).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message: 'UNAVAILABLE 0 of 2 replicas acknowledged: the ring has 1 replica(s) for this key',
    });
    expect((stores.get(ids[0]) as Store).read(key)).toBeUndefined();
    expect(metrics.counters.writesUnavailable.value).toBe(1);
  });

  it('still acknowledges W=1 on a single-member ring', async () => {
    const stores = replicaStores();
    const coordinator = coordinatorAt(ids[0], stores, [ids[0]], { writeQuorum: 1 });
    await coordinator.write(key, Buffer.from('v'), 0);
    expect((stores.get(ids[0]) as Store).value(key)?.toString()).toBe('v');
  });

  it('acknowledges W=2 past a busy replica, keeping its write as a hint and counting it apart', async () => {
    const stores = replicaStores();
    const metrics = new NodeMetrics();
    const hints = new HintStore({});
    const coordinator = coordinatorAt(ids[0], stores, ids, {
      busy: new Set([ids[2]]),
      metrics,
      hints,
    });
    await coordinator.write(key, Buffer.from('v'), 0);
    expect((stores.get(ids[1]) as Store).value(key)?.toString()).toBe('v');
    expect((stores.get(ids[2]) as Store).value(key)).toBeUndefined();
    expect(hints.pending).toBe(1);
    expect(metrics.counters.replicaFailures.value).toBe(1);
    expect(metrics.counters.replicaOverloaded.value).toBe(1);
  });

  it('fails W=2 when only this node of three answers', async () => {
    const stores = replicaStores();
    const coordinator = coordinatorAt(ids[0], stores, ids, { down: new Set([ids[1], ids[2]]) });
    await expect(coordinator.write(key, Buffer.from('v'), 0)).rejects.toMatchObject({
      message: 'UNAVAILABLE 1 of 2 replicas acknowledged',
    });
  });
});

describe('QuorumOperations writes of one turn, batched per replica', () => {
  const keys = Array.from({ length: 10 }, (_, i) => Buffer.from(`user:${i}`));
  const holding = (stores: Map<string, Store>, id: string, value: string): number =>
    keys.filter((k) => (stores.get(id) as Store).value(k)?.toString() === value).length;

  it('sends each replica one batch, and acknowledges every write on its own', async () => {
    const stores = replicaStores();
    const sent: string[] = [];
    const metrics = new NodeMetrics();
    const coordinator = coordinatorAt(ids[0], stores, ids, { writeQuorum: 3, sent, metrics });
    const answers = await Promise.all(
      keys.map(async (k) => coordinator.write(k, Buffer.from('v'), 0)),
    );
    expect(answers).toEqual(keys.map(() => ({ existed: false })));
    expect(sent.sort()).toEqual([`${ids[1]} REPLICATE_BATCH 10`, `${ids[2]} REPLICATE_BATCH 10`]);
    for (const id of ids) expect(holding(stores, id, 'v')).toBe(keys.length);
    expect(metrics.counters.replicaRecordsSent.value).toBe(20);
    expect(metrics.counters.replicaBatchesSent.value).toBe(2);
    expect(metrics.replicaLatency.count).toBe(20);
  });

  it('keeps every record of a batch that got no answer as a hint for its replica', async () => {
    const stores = replicaStores();
    const hints = new HintStore({});
    const metrics = new NodeMetrics();
    const down = new Set([ids[2]]);
    const coordinator = coordinatorAt(ids[0], stores, ids, { down, hints, metrics });
    await Promise.all(keys.map(async (k) => coordinator.write(k, Buffer.from('v'), 0)));
    expect(hints.replicas()).toEqual([ids[2]]);
    expect(hints.pending).toBe(keys.length);
    expect(metrics.counters.replicaFailures.value).toBe(keys.length);
    expect(holding(stores, ids[1], 'v')).toBe(keys.length);
  });

  it('takes a batch a replica refused whole (its clock fenced) as its answer, hinting nothing', async () => {
    const stores = replicaStores();
    const hints = new HintStore({});
    const fenced = new Set([ids[2]]);
    const coordinator = coordinatorAt(ids[0], stores, ids, { fenced, hints, writeQuorum: 3 });
    const outcomes = await Promise.allSettled(
      keys.map((k) => Promise.resolve().then(() => coordinator.write(k, Buffer.from('v'), 0))),
    );
    expect(outcomes.map((o) => o.status === 'rejected' && String(o.reason))).toEqual(
      keys.map(
        () =>
          `ReplyError: UNAVAILABLE 2 of 3 replicas acknowledged (${ids[2]} refused: ${ids[2]} is fenced)`,
      ),
    );
    expect(hints.pending).toBe(0);
    expect(holding(stores, ids[2], 'v')).toBe(0);
  });

  it('re-versions only the write a replica answered with a newer version, the rest of its batch acknowledged', async () => {
    // The rival is stamped at exactly this node's next timestamp: the turn's first write.
    const stores = await storesWithRival(keys[0] as Buffer);
    const metrics = new NodeMetrics();
    const sent: string[] = [];
    const coordinator = coordinatorAt(ids[0], stores, ids, { metrics, sent });
    await Promise.all(keys.map(async (k) => coordinator.write(k, Buffer.from('mine'), 0)));
    expect(metrics.counters.versionRetries.value).toBe(1);
    for (const id of [ids[1], ids[2]]) {
      expect(holding(stores, id, 'mine')).toBe(keys.length);
      expect((stores.get(id) as Store).read(keys[0] as Buffer)?.origin).toBe(ids[0]);
    }
    // The turn's writes in one batch per replica; the retried one alone, later.
    expect(sent.sort()).toEqual([
      `${ids[1]} REPLICATE`,
      `${ids[1]} REPLICATE_BATCH 10`,
      `${ids[2]} REPLICATE`,
      `${ids[2]} REPLICATE_BATCH 10`,
    ]);
  });
});

describe('QuorumOperations reads for a write (EXPIRE, SET NX)', () => {
  const key = Buffer.from('user:1');

  /** Replicas of which this node's own copy missed the write the two others acknowledged. */
  async function ownCopyMissedAWrite(): Promise<Map<string, Store>> {
    const stores = replicaStores();
    const acknowledged = { value: Buffer.from('new'), ts: 2048, origin: ids[1], expiresAt: 0 };
    for (const id of [ids[1], ids[2]]) await (stores.get(id) as Store).apply(key, acknowledged);
    await (stores.get(ids[0]) as Store).apply(key, {
      ...acknowledged,
      value: Buffer.from('old'),
      ts: 1024,
    });
    return stores;
  }

  it('reads R = N − W + 1 copies, so a write acknowledged by W is seen where R=1 misses it', async () => {
    const stores = await ownCopyMissedAWrite();
    const coordinator = coordinatorAt(ids[0], stores, ids);
    expect((await coordinator.read(key))?.value?.toString()).toBe('old');
    expect((await coordinator.readForWrite(key))?.value?.toString()).toBe('new');
    expect((await coordinator.readForWrite(key, 1))?.value?.toString()).toBe('new');
  });

  it('fails when fewer than N − W + 1 replicas answer', async () => {
    const stores = await ownCopyMissedAWrite();
    const coordinator = coordinatorAt(ids[0], stores, ids, { down: new Set([ids[1], ids[2]]) });
    await expect(coordinator.readForWrite(key)).rejects.toMatchObject({
      message: 'UNAVAILABLE 1 of 2 replicas answered',
    });
  });

  it('reads as many copies when the command asks a larger W: earlier writes had the configured W', async () => {
    const stores = await ownCopyMissedAWrite();
    const coordinator = coordinatorAt(ids[0], stores, ids);
    // `new` was acknowledged by the other two (W=2): an EXPIRE ... W 3 must still see it.
    expect((await coordinator.readForWrite(key, 3))?.value?.toString()).toBe('new');
  });

  it('reads one copy when the configured W is every replica, and on a single-member ring', async () => {
    const stores = await ownCopyMissedAWrite();
    // Configured W=3: every acknowledged write is on every copy, this node's included.
    const all = coordinatorAt(ids[0], stores, ids, {
      down: new Set([ids[1], ids[2]]),
      writeQuorum: 3,
    });
    expect((await all.readForWrite(key))?.value?.toString()).toBe('old');
    const alone = coordinatorAt(ids[0], stores, [ids[0]], { writeQuorum: 1 });
    expect((await alone.readForWrite(key))?.value?.toString()).toBe('old');
  });

  it('refuses a W outside 1..N', () => {
    const coordinator = coordinatorAt(ids[0], replicaStores(), ids);
    expect(() => coordinator.readForWrite(key, 4)).toThrow('write quorum must be between 1 and 3');
  });
});

describe('QuorumOperations under clock and deadline faults', () => {
  const key = Buffer.from('user:2');

  it('stamps nothing while this node is fenced, on any replica', () => {
    const stores = replicaStores();
    const gate = gateOf({ offsetMs: 120_000, maxOffsetMs: 500 });
    const quorum = coordinatorAt(ids[0], stores, ids, { gate });
    expect(() => quorum.write(key, Buffer.from('future'), 0)).toThrow(
      /^UNAVAILABLE this node's clock is \+120000 ms off the cluster's \(bound 500 ms\)/,
    );
    for (const id of ids) expect((stores.get(id) as Store).read(key)).toBeUndefined();
    expect(gate.metrics.counters.writesFenced.value).toBe(1);
    expect(gate.metrics.gauges.clockFenced.value).toBe(1);
    expect(gate.metrics.gauges.clockOffset.value).toBe(120);
  });

  it('refuses a replica batch whole while fenced, counting each of its records', () => {
    const store = replicaStores().get(ids[1]) as Store;
    const gate = gateOf({ offsetMs: 120_000, maxOffsetMs: 500 });
    const entries = ['a', 'b', 'c'].map((k, i) => ({
      key: Buffer.from(k),
      record: {
        value: Buffer.from('v'),
        ts: (WALL_MS + i) * 2 ** LOGICAL_BITS,
        origin: ids[0],
        expiresAt: 0,
      },
    }));
    const args = overTheWire<Buffer[]>(encodeCommand(replicateBatchArgs(entries)), 'request');
    expect(() => serveAsReplica(store, args, (n) => gate.beforeReplicaWrite(n))).toThrow(
      /^CLOCKSKEW this replica's clock is \+120000 ms off the cluster's \(bound 500 ms\)$/,
    );
    expect(store.size).toBe(0);
    expect(gate.metrics.counters.writesFenced.value).toBe(3);
  });

  it('refuses a write that may have waited past the deadline, writing nothing', () => {
    const stores = replicaStores();
    const gate = gateOf({ waitedMs: 5000 });
    const quorum = coordinatorAt(ids[0], stores, ids, { gate });
    expect(() => quorum.write(key, Buffer.from('late'), 0)).toThrow(
      /^TIMEOUT the request may have waited 5000 ms .*write deadline 2000 ms/,
    );
    for (const id of ids) expect((stores.get(id) as Store).read(key)).toBeUndefined();
    expect(gate.metrics.counters.writeDeadlinesMissed.value).toBe(1);
  });

  it('stamps nothing before this node has measured its clock', () => {
    const stores = replicaStores();
    const quorum = coordinatorAt(ids[0], stores, ids, { gate: gateOf({ unmeasured: true }) });
    expect(() => quorum.write(key, Buffer.from('v'), 0)).toThrow(
      /^UNAVAILABLE this node has not measured its clock against the cluster yet/,
    );
    for (const id of ids) expect((stores.get(id) as Store).read(key)).toBeUndefined();
  });

  it('sends nothing when its wall clock stepped back behind the versions it made', async () => {
    const stores = replicaStores();
    let wall = WALL_MS;
    const clock = new HybridLogicalClock(() => wall, 500);
    const quorum = coordinatorAt(ids[0], stores, ids, { clock });
    await quorum.write(key, Buffer.from('before'), 0);
    wall = WALL_MS - 60_000;
    expect(() => quorum.write(key, Buffer.from('after'), 0)).toThrow(
      /^UNAVAILABLE this node's clock is 60000 ms behind the versions it already made/,
    );
    for (const id of ids) expect((stores.get(id) as Store).value(key)?.toString()).toBe('before');
  });

  it('waits out a refused second stamp as a failed round, the first round being stored', async () => {
    jest.useFakeTimers();
    try {
      // The round is stale, and the gate refuses the second stamp (the loop stalled meanwhile).
      const stores = await storesWithRival(key);
      let calls = 0;
      const gate = gateOf({ maxOffsetMs: 500, waitedMs: () => (calls++ === 0 ? 0 : 5000) });
      const quorum = coordinatorAt(ids[0], stores, ids, { gate });
      let outcome = 'pending';
      Promise.resolve(quorum.write(key, Buffer.from('mine'), 0)).then(
        () => (outcome = 'ok'),
        (err: Error) => (outcome = err.message),
      );
      await jest.advanceTimersByTimeAsync(999);
      expect(outcome).toBe('pending');
      await jest.advanceTimersByTimeAsync(1);
      expect(outcome).toMatch(/^TIMEOUT the request may have waited 5000 ms/);
      expect((stores.get(ids[0]) as Store).value(key)?.toString()).toBe('mine');
    } finally {
      jest.useRealTimers();
    }
  });

  it('reports a failed write only once every clock in bounds is past its stamp', async () => {
    jest.useFakeTimers();
    try {
      const stores = replicaStores();
      const gate = gateOf({ maxOffsetMs: 500 });
      const quorum = coordinatorAt(ids[0], stores, ids, {
        gate,
        down: new Set([ids[1], ids[2]]),
      });
      let outcome = 'pending';
      Promise.resolve(quorum.write(key, Buffer.from('v'), 0)).then(
        () => (outcome = 'ok'),
        (err: Error) => (outcome = err.message),
      );
      await jest.advanceTimersByTimeAsync(999);
      expect(outcome).toBe('pending');
      await jest.advanceTimersByTimeAsync(1);
      expect(outcome).toBe('UNAVAILABLE 1 of 2 replicas acknowledged');
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('QuorumOperations R=1 reads of a copy that may have missed writes', () => {
  const key = Buffer.from('missed:1');
  const record = {
    value: Buffer.from('v'),
    ts: WALL_MS * 2 ** LOGICAL_BITS,
    origin: ids[1],
    expiresAt: 0,
  };

  /** Replicas where only the two others hold `record`. */
  async function missedHere(): Promise<Map<string, Store>> {
    const stores = replicaStores();
    for (const id of [ids[1], ids[2]]) await (stores.get(id) as Store).apply(key, record);
    return stores;
  }

  /** A gate whose clock was measured in bounds, on the monotonic clock `monotonic`. */
  function measuredGate(monotonic: () => number, onStale?: () => void): WriteGate {
    const monitor = new ClockOffsetMonitor({ maxOffsetMs: 500, monotonic });
    monitor.record('coordinator', { sentAt: WALL_MS, remoteAt: WALL_MS, receivedAt: WALL_MS });
    const gate = new WriteGate({
      monitor,
      waited: () => 0,
      writeDeadlineMs: 2000,
      now: () => WALL_MS,
      monotonic,
      onStale,
    });
    gate.update();
    return gate;
  }

  it('asks another replica while stale, and answers alone again after a later round', async () => {
    // The write reached the other two replicas while this node was cut off or paused.
    const stores = await missedHere();
    let t = 1000;
    let staleCalls = 0;
    const gate = measuredGate(
      () => t,
      () => staleCalls++,
    );
    const quorum = coordinatorAt(ids[0], stores, ids, { gate });
    expect(quorum.read(key)).toBeUndefined();

    gate.markStale();
    expect(staleCalls).toBe(1);
    const answer = quorum.read(key);
    expect(answer instanceof Promise).toBe(true);
    expect((await answer)?.value?.toString()).toBe('v');

    // A round that started before the node went stale does not count; one after does,
    // and says it ended the staleness (once).
    expect(gate.roundCompleted(t - 1)).toBe(false);
    expect(gate.readsAlone).toBe(false);
    t += 10;
    expect(gate.roundCompleted(t)).toBe(true);
    expect(gate.readsAlone).toBe(true);
    expect(gate.roundCompleted(t + 1)).toBe(false);
    expect(quorum.read(key) instanceof Promise).toBe(false);
  });

  it('asks another replica while the coordinator is out of reach, and after, until a round completes', async () => {
    // Written by members that had been given this node's ranges while it was cut off.
    const stores = await missedHere();
    let t = 1000;
    const gate = measuredGate(() => t);
    const quorum = coordinatorAt(ids[0], stores, ids, { gate });
    // Stale already (a member's connection closed), then cut off as well.
    gate.markStale();
    gate.lostCoordinator();
    const answer = quorum.read(key);
    expect(answer instanceof Promise).toBe(true);
    expect((await answer)?.value?.toString()).toBe('v');
    // A round that completes while cut off (every peer still at the old ring) does not
    // make this copy trustworthy: the coordinator may have moved on without it.
    t += 10;
    expect(gate.roundCompleted(t)).toBe(false);
    expect(gate.readsAlone).toBe(false);
    // Back in touch: stale until a round that started afterwards completes.
    t += 10;
    gate.reachedCoordinator();
    expect(gate.readsAlone).toBe(false);
    expect(gate.roundCompleted(t - 1)).toBe(false);
    t += 10;
    expect(gate.roundCompleted(t)).toBe(true);
    expect(gate.readsAlone).toBe(true);
    expect(quorum.read(key) instanceof Promise).toBe(false);
  });

  it('treats a node released from its fence as stale: it refused replica writes meanwhile', () => {
    let t = 0;
    const monitor = new ClockOffsetMonitor({ maxOffsetMs: 500, monotonic: () => t });
    const gate = new WriteGate({
      monitor,
      waited: () => 0,
      writeDeadlineMs: 2000,
      monotonic: () => t,
    });
    monitor.record('coordinator', { sentAt: 0, remoteAt: -120_000, receivedAt: 2 });
    gate.update();
    expect(gate.readsAlone).toBe(false);
    t = 100;
    monitor.record('coordinator', { sentAt: 100, remoteAt: 101, receivedAt: 102 });
    gate.update();
    expect(gate.fenced).toBe(false);
    expect(gate.readsAlone).toBe(false);
    gate.roundCompleted(101);
    expect(gate.readsAlone).toBe(true);
  });
});

describe('QuorumOperations R=1 reads from other replicas that may have missed writes', () => {
  const self = '127.0.0.1:5009';
  const members = [...ids, self];
  const ring = ringOf(members);
  const placement = new RingEpoch(1, ring, ring);
  // A key whose replicas are the three others, in preference order.
  const key = Buffer.from(
    Array.from({ length: 200 }, (_, i) => `elsewhere:${i}`).find(
      (k) => !placement.readReplicas(k).includes(self),
    ) as string,
  );
  const [first, second, third] = placement.readReplicas(key) as [string, string, string];
  const older = {
    value: Buffer.from('old'),
    ts: WALL_MS * 2 ** LOGICAL_BITS,
    origin: first,
    expiresAt: 0,
  };
  const newer = { ...older, value: Buffer.from('new'), ts: older.ts + 1 };

  async function storesHolding(copies: Record<string, StoredRecord>): Promise<Map<string, Store>> {
    const stores = new Map(
      members.map((id) => [
        id,
        new Store(new MemoryEngine(), new HybridLogicalClock(() => WALL_MS)),
      ]),
    );
    for (const [id, record] of Object.entries(copies))
      await (stores.get(id) as Store).apply(key, record);
    return stores;
  }

  it('skips a replica that refuses to answer alone, reading the next one', async () => {
    // W=2 reached the second and third replicas while the first was fenced or cut off.
    const stores = await storesHolding({ [first]: older, [second]: newer, [third]: newer });
    const metrics = new NodeMetrics();
    const quorum = coordinatorAt(self, stores, members, {
      placement,
      metrics,
      stale: new Set([first]),
    });
    expect((await quorum.read(key))?.value?.toString()).toBe('new');
    expect(metrics.counters.replicaFailures.value).toBe(0);
    // Without the refusal the first replica's older copy would have answered.
    const trusting = coordinatorAt(self, stores, members, { placement });
    expect((await trusting.read(key))?.value?.toString()).toBe('old');
  });

  it('skips a replica still at an older ring epoch than its own: writes of the newer one may miss it', async () => {
    const stores = await storesHolding({ [first]: older, [second]: newer, [third]: newer });
    const quorum = coordinatorAt(self, stores, members, { placement, behind: new Set([first]) });
    expect((await quorum.read(key))?.value?.toString()).toBe('new');
  });

  it('asks every replica at once: a write dispatched after the read never shows in it', async () => {
    const stores = await storesHolding({ [first]: newer, [second]: newer, [third]: newer });
    const quorum = coordinatorAt(self, stores, members, { placement, stale: new Set([first]) });
    const read = quorum.read(key);
    const deleted = quorum.write(key, null, 0);
    expect((await read)?.value?.toString()).toBe('new');
    await deleted;
    expect(stores.get(second)?.read(key)?.value).toBeNull();
  });

  it('when every reachable replica is stale, answers the newest of their copies', async () => {
    const stores = await storesHolding({ [first]: older, [second]: newer });
    const quorum = coordinatorAt(self, stores, members, {
      placement,
      stale: new Set([first, second]),
      down: new Set([third]),
    });
    expect((await quorum.read(key))?.value?.toString()).toBe('new');
  });

  it('answers UNAVAILABLE when no replica answers at all', async () => {
    const stores = await storesHolding({});
    const metrics = new NodeMetrics();
    const quorum = coordinatorAt(self, stores, members, {
      placement,
      metrics,
      down: new Set([first, second, third]),
    });
    await expect(quorum.read(key)).rejects.toThrow('UNAVAILABLE 0 of 1 replicas answered');
    expect(metrics.counters.readsUnavailable.value).toBe(1);
  });

  it('its own stale copy asks others alone first, a stale other only as a last resort', async () => {
    const stores = await storesHolding({ [ids[0]]: older, [ids[1]]: older, [ids[2]]: newer });
    const gate = gateOf();
    gate.markStale();
    const quorum = coordinatorAt(ids[0], stores, ids, { gate, stale: new Set([ids[1]]) });
    expect((await quorum.read(key))?.value?.toString()).toBe('new');
  });

  it('FETCH takes ALONE as its only flag, and then says whether the copy may be read alone', () => {
    const fetch = PEER_COMMANDS[NodeCommand.fetch];
    const context = {
      store: new Store(new MemoryEngine(), new HybridLogicalClock(() => WALL_MS)),
      answersAlone: () => true,
    };
    expect(() =>
      fetch?.run(
        [Buffer.from('FETCH'), key, Buffer.from('ONLY')],
        context as unknown as PeerContext,
        {} as ServerConnection,
      ),
    ).toThrow('WRONGARGS the only flag of FETCH is ALONE');
    expect(
      fetch?.run(
        [Buffer.from('fetch'), key, Buffer.from('alone')],
        context as unknown as PeerContext,
        {} as ServerConnection,
      ),
    ).toEqual([1, null]);
  });
});

describe('QuorumOperations R=1 reads after a ring change', () => {
  const dead = '127.0.0.1:5004';
  const self = ids[0];
  const all = [...ids, dead];
  const before = new RingEpoch(1, ringOf(all));
  const after = new RingEpoch(2, ringOf(ids));
  // A key this node gains when `dead` is removed: the other three held it.
  const key = Buffer.from(
    Array.from({ length: 100 }, (_, i) => `gained:${i}`).find(
      (k) => !before.readReplicas(k).includes(self),
    ) as string,
  );
  const record = {
    value: Buffer.from('v'),
    ts: WALL_MS * 2 ** LOGICAL_BITS,
    origin: ids[1],
    expiresAt: 0,
  };

  function storesWith(holders: readonly string[]): Map<string, Store> {
    const stores = new Map(
      all.map((id) => [id, new Store(new MemoryEngine(), new HybridLogicalClock(() => WALL_MS))]),
    );
    for (const id of holders) void (stores.get(id) as Store).apply(key, record);
    return stores;
  }

  function afterDeath(): UnsyncedRanges {
    const unsynced = new UnsyncedRanges(self);
    unsynced.update(before);
    unsynced.synced(before);
    unsynced.update(after);
    return unsynced;
  }

  it('answers a settled key from its own copy, at once', () => {
    const stores = storesWith([self]);
    const quorum = coordinatorAt(self, stores, ids, { placement: after, unsynced: afterDeath() });
    const owned = Array.from({ length: 100 }, (_, i) => Buffer.from(`owned:${i}`)).find((k) =>
      before.readReplicas(k).includes(self),
    ) as Buffer;
    void (stores.get(self) as Store).apply(owned, record);
    const answer = quorum.read(owned);
    expect(answer instanceof Promise).toBe(false);
    expect((answer as StoredRecord | undefined)?.value?.toString()).toBe('v');
  });

  it('asks a previous owner for a key of a gained range it lacks, until its round completes', async () => {
    const stores = storesWith([ids[1], ids[2]]);
    const unsynced = afterDeath();
    const metrics = new NodeMetrics();
    const quorum = coordinatorAt(self, stores, ids, {
      placement: after,
      unsynced,
      metrics,
      down: new Set([dead]),
    });
    const answer = quorum.read(key);
    expect(answer instanceof Promise).toBe(true);
    expect((await answer)?.value?.toString()).toBe('v');
    expect(metrics.counters.unsyncedReads.value).toBe(1);

    // The round pulls the key, and this node answers alone again.
    await (stores.get(self) as Store).apply(key, record);
    expect(unsynced.synced(after)).toBe(false);
    const settled = quorum.read(key);
    expect(settled instanceof Promise).toBe(false);
    expect((settled as StoredRecord | undefined)?.value?.toString()).toBe('v');
  });

  it('asks another owner for a key on its way to a joining node, and answers the others alone', async () => {
    // `dead` joins instead: the epoch that makes it serve will send the writes of the keys
    // it takes to it, not here, maybe before this node has learnt that epoch.
    const joining = new RingEpoch(3, ringOf(ids), ringOf(all));
    const keys = Array.from({ length: 100 }, (_, i) => Buffer.from(`moving:${i}`));
    const keeps = (k: Buffer): boolean => joining.targetOwnersOfToken(token(k)).includes(self);
    const moving = keys.find((k) => !keeps(k)) as Buffer;
    const staying = keys.find(keeps) as Buffer;
    const stores = storesWith([]);
    const older = { ...record, value: Buffer.from('older'), ts: record.ts - 1 };
    for (const k of [moving, staying]) {
      await (stores.get(self) as Store).apply(k, older);
      for (const id of [ids[1], ids[2]]) await (stores.get(id) as Store).apply(k, record);
    }
    const quorum = coordinatorAt(self, stores, ids, { placement: joining });
    const asked = quorum.read(moving);
    expect(asked instanceof Promise).toBe(true);
    expect((await asked)?.value?.toString()).toBe('v');
    const own = quorum.read(staying);
    expect(own instanceof Promise).toBe(false);
    expect((own as StoredRecord | undefined)?.value?.toString()).toBe('older');
  });

  it('does not see a write dispatched after it, as in a pipeline', async () => {
    const stores = storesWith([self, ids[1], ids[2]]);
    const quorum = coordinatorAt(self, stores, ids, { placement: after, unsynced: afterDeath() });
    const read = quorum.read(key);
    const deleted = quorum.write(key, null, 0);
    expect((await read)?.value?.toString()).toBe('v');
    await deleted;
    expect(stores.get(ids[1])?.read(key)?.value).toBeNull();
  });

  it('keeps the newer of its own copy and the remote answer', async () => {
    const stores = storesWith([ids[1]]);
    const newer = { ...record, value: Buffer.from('newer'), ts: record.ts + 1, origin: self };
    await (stores.get(self) as Store).apply(key, newer);
    const quorum = coordinatorAt(self, stores, ids, { placement: after, unsynced: afterDeath() });
    expect((await quorum.read(key))?.value?.toString()).toBe('newer');
  });

  it('alone in the read ring, asks previous owners that left it, else answers from its copy', async () => {
    // The first node to register again after the coordinator lost contact with all.
    const alone = new RingEpoch(9, ringOf([self]));
    const unsynced = new UnsyncedRanges(self);
    unsynced.update(before);
    unsynced.synced(before);
    unsynced.update(alone);
    // A round with nobody to pull from syncs nothing.
    expect(unsynced.synced(alone)).toBe(true);
    const stores = storesWith([ids[1], ids[2], dead]);
    const up = coordinatorAt(self, stores, [self], { placement: alone, unsynced });
    expect((await up.read(key))?.value?.toString()).toBe('v');
    const cutOff = coordinatorAt(self, stores, [self], {
      placement: alone,
      unsynced,
      down: new Set(all.filter((id) => id !== self)),
    });
    expect(await cutOff.read(key)).toBeUndefined();
  });
});
