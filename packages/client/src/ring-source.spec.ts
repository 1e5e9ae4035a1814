import {
  AuthenticationError,
  OK,
  ReplyError,
  UnreachableError,
  type ConnectionPool,
  type RespValue,
} from '@kv/protocol';
import { Ring } from '@kv/ring';
import { CoordinatorUnreachableError } from './errors';
import { parseRingReply, RingSource, type RingSnapshot } from './ring-source';

describe('parseRingReply', () => {
  const ring = new Ring(['127.0.0.1:5001', '127.0.0.1:5002']);
  const json = Buffer.from(JSON.stringify(ring.toJSON()));

  it('reads a whole ring, and says where it came from', () => {
    const snapshot = parseRingReply('c', [7, json], 3);
    expect(snapshot?.epoch).toBe(7);
    expect(snapshot?.from).toBe('c');
    expect(snapshot?.ring.equals(ring)).toBe(true);
  });

  it('derives the new ring from the one it holds, placing keys as a ring read whole', () => {
    const next = ring.add('127.0.0.1:5003');
    const reply = [8, Buffer.from(JSON.stringify(next.toJSON()))];
    const derived = parseRingReply('c', reply, 7, ring);
    const whole = parseRingReply('c', reply, 7);
    expect(derived?.ring.equals(next)).toBe(true);
    for (let i = 0; i < 100; i++) {
      expect(derived?.ring.preferenceList(`k${i}`)).toEqual(whole?.ring.preferenceList(`k${i}`));
    }
  });

  it('reads "unchanged" when only the known epoch comes back', () => {
    expect(parseRingReply('c', [3], 3)).toBeUndefined();
  });

  it.each<[string, RespValue, string]>([
    ['not an array', OK, 'c sent an invalid RING reply: expected [epoch, ring]'],
    ['an epoch that is not a number', [Buffer.from('1'), json], 'expected [epoch, ring]'],
    ['another epoch without a ring', [4], 'epoch 4 without a ring'],
    ['a ring that is not a bulk string', [4, 5], 'the ring is not a bulk string'],
    ['a ring that is not JSON', [4, Buffer.from('{')], 'c sent an invalid RING reply: '],
    ['JSON that is not a ring', [4, Buffer.from('[]')], 'expected an object'],
  ])('rejects %s', (_what, reply, message) => {
    expect(() => parseRingReply('c', reply, 3)).toThrow(message);
  });
});

/** What a fake server does with `RING known`: a reply, an error to throw, or nothing (unreachable). */
type Answer = ((known: number) => RespValue) | Error;

/** The pool's surface the ring source uses, answering from a table; no sockets. */
class FakePool {
  /** Every address asked, in order. */
  readonly asked: string[] = [];
  readonly backingOff = new Set<string>();
  constructor(readonly answers: Map<string, Answer>) {}

  send(address: string, args: readonly string[]): Promise<RespValue> {
    this.asked.push(address);
    const answer = this.answers.get(address);
    if (answer === undefined) return Promise.reject(new UnreachableError(address, 'ECONNREFUSED'));
    if (answer instanceof Error) return Promise.reject(answer);
    return Promise.resolve(answer(Number(args[1])));
  }

  isAvailable(address: string): boolean {
    return !this.backingOff.has(address);
  }
}

/** A server answering `RING` at `epoch` with a ring of `members`, as coordinators and nodes do. */
function ringAt(epoch: number, members: readonly string[]): Answer {
  const json = Buffer.from(JSON.stringify(new Ring(members).toJSON()));
  return (known) => (known === epoch ? [epoch] : [epoch, json]);
}

const C1 = '10.0.0.1:5000';
const C2 = '10.0.0.2:5000';
const N1 = '10.0.1.1:5001';
const N2 = '10.0.1.2:5001';
const N3 = '10.0.1.3:5001';
const NODES = [N1, N2, N3];

function source(
  pool: FakePool,
  coordinators: readonly string[],
  seeds: readonly string[] = [],
): { source: RingSource; adopted: RingSnapshot[] } {
  const adopted: RingSnapshot[] = [];
  const ringSource = new RingSource({
    coordinators,
    seeds,
    pool: pool as unknown as ConnectionPool,
    timeoutMs: 100,
    onChange: (snapshot) => adopted.push(snapshot),
  });
  return { source: ringSource, adopted };
}

describe('RingSource', () => {
  it('asks the first coordinator that answers, and nothing after it', async () => {
    const pool = new FakePool(new Map([[C2, ringAt(4, NODES)]]));
    const { source: s } = source(pool, [C1, C2], [N1]);
    const snapshot = await s.load();
    expect({ epoch: snapshot.epoch, from: snapshot.from }).toEqual({ epoch: 4, from: C2 });
    expect(pool.asked).toEqual([C1, C2]);
  });

  it('bootstraps from the seeds, in order, when no coordinator answers', async () => {
    const pool = new FakePool(new Map([[N2, ringAt(6, NODES)]]));
    const { source: s } = source(pool, [C1, C2], [N1, N2, N3]);
    const snapshot = await s.load();
    expect({ epoch: snapshot.epoch, from: snapshot.from }).toEqual({ epoch: 6, from: N2 });
    expect(snapshot.ring.members.map((m) => m.id)).toEqual(NODES);
    expect(pool.asked).toEqual([C1, C2, N1, N2]);
  });

  it('passes over a seed that is not a kv member, or has no ring yet', async () => {
    const pool = new FakePool(
      new Map<string, Answer>([
        [N1, new ReplyError("ERR unknown command 'RING'")],
        [N2, new ReplyError('UNAVAILABLE this node has no ring yet')],
        [N3, () => OK],
        [C2, ringAt(2, NODES)],
      ]),
    );
    const { source: s } = source(pool, [], [N1, N2, N3, C2]);
    expect((await s.load()).from).toBe(C2);
  });

  it('lists every address tried, and why, when none answers', async () => {
    const pool = new FakePool(
      new Map<string, Answer>([[N2, new UnreachableError(N2, 'no reply within 100 ms')]]),
    );
    const { source: s } = source(pool, [C1], [N1, N2]);
    const err = (await s.load().catch((e: unknown) => e)) as CoordinatorUnreachableError;
    expect(err).toBeInstanceOf(CoordinatorUnreachableError);
    expect(err.attempts).toEqual([
      { address: C1, role: 'coordinator', reason: 'ECONNREFUSED' },
      { address: N1, role: 'seed', reason: 'ECONNREFUSED' },
      { address: N2, role: 'seed', reason: 'no reply within 100 ms' },
    ]);
    expect(err.message).toBe(
      `cannot reach coordinator ${C1} (ECONNREFUSED) or seeds ${N1} (ECONNREFUSED), ` +
        `${N2} (no reply within 100 ms): is the cluster running?`,
    );
  });

  it('says a seed-only list could not be reached without naming a coordinator', async () => {
    const { source: s } = source(new FakePool(new Map()), [], [N1]);
    await expect(s.load()).rejects.toThrow(
      `cannot reach seed ${N1} (ECONNREFUSED): is the cluster running?`,
    );
  });

  it('throws a refusal of the credentials at once while it has no ring', async () => {
    const refusal = new AuthenticationError(C1, new ReplyError('WRONGPASS invalid password'));
    const pool = new FakePool(
      new Map<string, Answer>([
        [C1, refusal],
        [N1, ringAt(1, NODES)],
      ]),
    );
    const { source: s } = source(pool, [C1], [N1]);
    await expect(s.load()).rejects.toBe(refusal);
    expect(pool.asked).toEqual([C1]);
  });

  it('never lets a member replace its ring with an older epoch', async () => {
    const answers = new Map<string, Answer>([[C1, ringAt(9, NODES)]]);
    const pool = new FakePool(answers);
    const { source: s, adopted } = source(pool, [C1], [N1, N2]);
    await s.load();
    answers.delete(C1);
    // N1 is behind (epoch 7); N2 routes with the epoch held.
    answers.set(N1, ringAt(7, [N1]));
    answers.set(N2, ringAt(9, NODES));
    pool.asked.length = 0;
    const after = await s.refresh();
    expect({ epoch: after.epoch, from: after.from }).toEqual({ epoch: 9, from: C1 });
    expect(adopted.map((a) => a.epoch)).toEqual([9]);
    expect(pool.asked).toEqual([C1, N1, N2]);
  });

  it('takes a newer ring from a member, and keeps its own when every member is behind', async () => {
    const answers = new Map<string, Answer>([[C1, ringAt(3, NODES)]]);
    const pool = new FakePool(answers);
    const { source: s, adopted } = source(pool, [C1], [N1]);
    await s.load();
    answers.delete(C1);
    answers.set(N1, ringAt(2, NODES));
    answers.set(N2, ringAt(1, NODES));
    answers.set(N3, ringAt(5, [N1, N3]));
    const newer = await s.refresh();
    expect({ epoch: newer.epoch, from: newer.from }).toEqual({ epoch: 5, from: N3 });

    answers.set(N3, ringAt(4, NODES));
    answers.set(N1, ringAt(4, NODES));
    pool.asked.length = 0;
    expect((await s.refresh()).epoch).toBe(5);
    expect(adopted.map((a) => a.epoch)).toEqual([3, 5]);
    // The seed first, then the nodes of the ring held (N1 is both: asked once).
    expect(pool.asked).toEqual([C1, N1, N3]);
  });

  it('asks the nodes of the ring held after the seeds, skipping those backing off', async () => {
    const answers = new Map<string, Answer>([[C1, ringAt(3, NODES)]]);
    const pool = new FakePool(answers);
    const { source: s } = source(pool, [C1]);
    await s.load();
    answers.delete(C1);
    pool.backingOff.add(N1);
    answers.set(N3, ringAt(8, NODES));
    pool.asked.length = 0;
    expect((await s.refresh()).epoch).toBe(8);
    expect(pool.asked).toEqual([C1, N2, N3]);
  });

  it('takes the coordinator ring whatever its epoch: it is authoritative', async () => {
    const answers = new Map<string, Answer>([[C1, ringAt(12, NODES)]]);
    const pool = new FakePool(answers);
    const { source: s } = source(pool, [C1], [N1]);
    await s.load();
    // Restarted without its data: it starts over at epoch 1.
    answers.set(C1, ringAt(1, [N1]));
    const after = await s.refresh();
    expect({ epoch: after.epoch, size: after.ring.size }).toEqual({ epoch: 1, size: 1 });
  });

  it('keeps its ring when nothing answers a refresh', async () => {
    const answers = new Map<string, Answer>([[C1, ringAt(3, NODES)]]);
    const pool = new FakePool(answers);
    const { source: s } = source(pool, [C1], [N1]);
    const held = await s.load();
    answers.clear();
    expect(await s.refresh()).toBe(held);
  });
});
