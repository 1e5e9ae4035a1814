import { createServer, type Socket } from 'node:net';
import {
  ConnectionPool,
  OverloadedError,
  ReplyError,
  UnreachableError,
  createRespServer,
  type Reply,
  type RespServer,
} from '@kv/protocol';
import { HybridLogicalClock, LOGICAL_BITS } from './hlc';
import { MemoryEngine } from './memory-engine';
import { NodeMetrics } from './metrics';
import { PeerClient } from './peer-client';
import type { StoredRecord } from './record';
import { MAX_BATCH_BYTES, MAX_BATCH_RECORDS, acknowledges } from './replication';
import { Store } from './store';
import { serveAsReplica } from './test-support/replica-server';

const WALL_MS = 1_700_000_000_000;
const stamp = (ms: number): number => ms * 2 ** LOGICAL_BITS;
const rec = (ts: number, value: string | null = 'v'): StoredRecord => ({
  ts,
  origin: 'a:1',
  expiresAt: 0,
  value: value === null ? null : Buffer.from(value),
});

describe('PeerClient replication', () => {
  let server: RespServer | undefined;
  const pool = new ConnectionPool({ requestTimeoutMs: 2000, connectTimeoutMs: 2000 });
  afterEach(async () => {
    await server?.close(10);
    server = undefined;
  });
  afterAll(() => pool.close());

  /**
   * A replica on 127.0.0.1:0 serving `handle` (by default: the peer commands over its own
   * store); `requests` holds each request's command name and, for a batch, its count.
   */
  async function replica(
    handle?: (args: Buffer[]) => Reply | Promise<Reply>,
  ): Promise<{ address: string; store: Store; requests: string[] }> {
    // Versions more than a second ahead of the replica's clock are refused.
    const store = new Store(new MemoryEngine(), new HybridLogicalClock(() => WALL_MS, 1000));
    const requests: string[] = [];
    server = createRespServer({
      handler: (args) => {
        const name = String(args[0]);
        requests.push(name === 'REPLICATE_BATCH' ? `${name} ${String(args[1])}` : name);
        return handle ? handle(args) : serveAsReplica(store, args);
      },
    });
    const { port } = await server.listen(0, '127.0.0.1');
    return { address: `127.0.0.1:${port}`, store, requests };
  }

  it('sends the records of one turn in one REPLICATE_BATCH, each answered on its own', async () => {
    const { address, store, requests } = await replica();
    await store.apply(Buffer.from('held'), rec(stamp(WALL_MS), 'newer'));
    const metrics = new NodeMetrics();
    const peers = new PeerClient(pool, metrics);
    const sent: [string, StoredRecord][] = [
      ['a', rec(stamp(WALL_MS - 10))],
      ['gone', rec(stamp(WALL_MS - 9), null)],
      ['held', rec(stamp(WALL_MS - 8), 'older')],
      // A version from an hour ahead: refused, this record alone.
      ['future', rec(stamp(WALL_MS + 3_600_000))],
      ['b', rec(stamp(WALL_MS - 7))],
    ];
    const answers = await Promise.allSettled(
      sent.map(([key, record]) => peers.replicate(address, Buffer.from(key), record)),
    );
    expect(requests).toEqual(['REPLICATE_BATCH 5']);
    const acked = answers.map((a, i) =>
      a.status === 'fulfilled'
        ? acknowledges(a.value, (sent[i] as [string, StoredRecord])[1])
        : a.reason,
    );
    expect(acked.slice(0, 3)).toEqual([true, true, false]);
    expect(acked[4]).toBe(true);
    expect(acked[3]).toBeInstanceOf(ReplyError);
    expect(String((acked[3] as ReplyError).message)).toMatch(
      /^CLOCKSKEW version \d+ is 3600000 ms ahead/,
    );
    expect(answers[2]).toMatchObject({
      value: { applied: false, ts: stamp(WALL_MS), origin: 'a:1' },
    });
    expect(store.read(Buffer.from('gone'))).toMatchObject({ value: null });
    expect(store.value(Buffer.from('b'))?.toString()).toBe('v');
    expect(metrics.counters.replicaRecordsSent.value).toBe(5);
    expect(metrics.counters.replicaBatchesSent.value).toBe(1);
    expect(metrics.replicaLatency.count).toBe(5);
  });

  it('sends a record alone as REPLICATE, and the next turn starts another batch', async () => {
    const { address, requests } = await replica();
    const peers = new PeerClient(pool);
    await peers.replicate(address, Buffer.from('a'), rec(1));
    await Promise.all(['b', 'c'].map((k) => peers.replicate(address, Buffer.from(k), rec(2))));
    expect(requests).toEqual(['REPLICATE', 'REPLICATE_BATCH 2']);
  });

  it('starts a new batch past its bounds in records and in bytes', async () => {
    const { address, store, requests } = await replica();
    const peers = new PeerClient(pool);
    const many = Array.from({ length: 2 * MAX_BATCH_RECORDS + 1 }, (_, i) =>
      peers.replicate(address, Buffer.from(`k${i}`), rec(1)),
    );
    await Promise.all(many);
    expect(requests).toEqual([
      `REPLICATE_BATCH ${MAX_BATCH_RECORDS}`,
      `REPLICATE_BATCH ${MAX_BATCH_RECORDS}`,
      'REPLICATE',
    ]);
    requests.length = 0;
    // Two fit in a batch, the third starts another (sent alone).
    const big = 'x'.repeat(MAX_BATCH_BYTES / 2 - 100);
    await Promise.all(
      ['b1', 'b2', 'b3'].map((k) => peers.replicate(address, Buffer.from(k), rec(2, big))),
    );
    expect(requests).toEqual(['REPLICATE_BATCH 2', 'REPLICATE']);
    expect(store.value(Buffer.from('b3'))?.length).toBe(big.length);
  });

  it('fails every record of a batch the replica refused whole, with its error', async () => {
    const { address, store } = await replica();
    await server?.close(10);
    const fenced = await replica((args) =>
      serveAsReplica(store, args, () => {
        throw new ReplyError("CLOCKSKEW this replica's clock is +900 ms off the cluster's");
      }),
    );
    expect(fenced.address).not.toBe(address);
    const peers = new PeerClient(pool);
    const answers = await Promise.allSettled(
      ['a', 'b', 'c'].map((k) => peers.replicate(fenced.address, Buffer.from(k), rec(1))),
    );
    for (const answer of answers)
      expect(answer).toMatchObject({
        status: 'rejected',
        reason: { message: "CLOCKSKEW this replica's clock is +900 ms off the cluster's" },
      });
    expect(answers.every((a) => a.status === 'rejected' && a.reason instanceof ReplyError)).toBe(
      true,
    );
    expect(store.size).toBe(0);
  });

  it('fails every record of a batch that could not be sent with the pool error, as unreachable', async () => {
    const { address } = await replica();
    await server?.close(10);
    server = undefined;
    const peers = new PeerClient(pool);
    const answers = await Promise.allSettled(
      ['a', 'b', 'c'].map((k) => peers.replicate(address, Buffer.from(k), rec(1))),
    );
    for (const answer of answers) {
      expect(answer.status).toBe('rejected');
      expect((answer as PromiseRejectedResult).reason).toBeInstanceOf(UnreachableError);
    }
  });

  it('sends each record as REPLICATE to a node that does not know REPLICATE_BATCH', async () => {
    const store = new Store(new MemoryEngine(), new HybridLogicalClock(() => WALL_MS));
    const { address, requests } = await replica((args) =>
      String(args[0]) === 'REPLICATE_BATCH'
        ? new ReplyError("ERR unknown command 'REPLICATE_BATCH'")
        : serveAsReplica(store, args),
    );
    const peers = new PeerClient(pool);
    const answers = await Promise.all(
      ['a', 'b', 'c'].map((k) => peers.replicate(address, Buffer.from(k), rec(1))),
    );
    expect(answers.map((a) => a.applied)).toEqual([true, true, true]);
    expect(requests).toEqual(['REPLICATE_BATCH 3', 'REPLICATE', 'REPLICATE', 'REPLICATE']);
    expect(store.size).toBe(3);
  });

  it('fails every record of a batch when the replica’s engine fails, not only the one it failed on', async () => {
    class FailingEngine extends MemoryEngine {
      override put(key: Buffer, record: StoredRecord): void {
        if (String(key) === 'bad') throw new Error('disk full');
        super.put(key, record);
      }
    }
    const store = new Store(new FailingEngine(), new HybridLogicalClock(() => WALL_MS));
    const { address } = await replica((args) => serveAsReplica(store, args));
    const peers = new PeerClient(pool);
    const answers = await Promise.allSettled(
      ['a', 'bad', 'c'].map((k) => peers.replicate(address, Buffer.from(k), rec(1))),
    );
    for (const answer of answers)
      expect(answer).toMatchObject({
        status: 'rejected',
        reason: { message: 'ERR internal error' },
      });
  });

  it('fails every record of a batch whose reply is malformed', async () => {
    const { address } = await replica(() => [[1, 0, 5, Buffer.from('a:1')]]);
    const peers = new PeerClient(pool);
    const answers = await Promise.allSettled(
      ['a', 'b'].map((k) => peers.replicate(address, Buffer.from(k), rec(1))),
    );
    for (const answer of answers)
      expect(answer).toMatchObject({
        status: 'rejected',
        reason: { message: 'ERR malformed REPLICATE_BATCH reply: expected 2 answers' },
      });
  });
});

describe('PeerClient order and notices', () => {
  /**
   * A pool that records each request as `peer COMMAND` and answers from `answer` (by
   * default: an applied REPLICATE, OK to the rest).
   */
  function fakePool(answer: (peer: string, name: string) => Promise<Reply> | undefined) {
    const sent: string[] = [];
    const pool = {
      send: (peer: string, args: (string | Buffer | number)[]): Promise<Reply> => {
        const name = String(args[0]);
        sent.push(`${peer} ${name}`);
        const given = answer(peer, name);
        if (given) return given;
        if (name === 'REPLICATE') return Promise.resolve([1, 0, 1, Buffer.from('a:1')]);
        return Promise.resolve(name === 'FETCH' ? null : 'OK');
      },
      isAvailable: () => true,
      forgive: () => undefined,
    };
    return { sent, peers: new PeerClient(pool as unknown as ConnectionPool) };
  }

  it('sends a read after the records queued before it for the same peer, not ahead of them', async () => {
    const { sent, peers } = fakePool(() => undefined);
    const write = peers.replicate('p:1', Buffer.from('k'), rec(stamp(WALL_MS)));
    void peers.replicate('p:2', Buffer.from('k'), rec(stamp(WALL_MS)));
    await peers.fetch('p:1', Buffer.from('k'));
    await write;
    expect(sent.slice(0, 2)).toEqual(['p:1 REPLICATE', 'p:1 FETCH']);
  });

  it('tells a busy replica, once and ahead of the next request to it, that writes for it became hints', async () => {
    let busy = true;
    const { sent, peers } = fakePool((_peer, name) =>
      name === 'REPLICATE' && busy
        ? Promise.reject(new OverloadedError('p:1', '2048 requests already pending; not sent'))
        : undefined,
    );
    await expect(peers.replicate('p:1', Buffer.from('k'), rec(1))).rejects.toBeInstanceOf(
      OverloadedError,
    );
    busy = false;
    await peers.fetch('p:1', Buffer.from('k'));
    await peers.fetch('p:1', Buffer.from('k'));
    expect(sent).toEqual(['p:1 REPLICATE', 'p:1 REPLICA_MISSED', 'p:1 FETCH', 'p:1 FETCH']);
  });

  it('tells a replica that could not be reached that writes for it became hints, but not one that refused the write', async () => {
    const { sent, peers } = fakePool((peer, name) => {
      if (name !== 'REPLICATE') return undefined;
      if (peer === 'gone:1')
        return Promise.reject(new UnreachableError('gone:1', 'backing off after a failure'));
      if (peer === 'full:1')
        return Promise.reject(new ReplyError('OOM the replica is at its memory bound'));
      return undefined;
    });
    await expect(peers.replicate('gone:1', Buffer.from('k'), rec(1))).rejects.toThrow(
      'backing off',
    );
    await expect(peers.replicate('full:1', Buffer.from('k'), rec(1))).rejects.toThrow('OOM');
    await peers.fetch('gone:1', Buffer.from('k'));
    await peers.fetch('full:1', Buffer.from('k'));
    expect(sent).toEqual([
      'gone:1 REPLICATE',
      'full:1 REPLICATE',
      'gone:1 REPLICA_MISSED',
      'gone:1 FETCH',
      'full:1 FETCH',
    ]);
  });

  it('owes the notice again if it could not be sent', async () => {
    let missedFails = true;
    const { sent, peers } = fakePool((peer, name) => {
      if (peer === 'busy:1' && name === 'REPLICATE')
        return Promise.reject(new OverloadedError('busy:1', 'full'));
      if (name === 'REPLICA_MISSED' && missedFails) {
        missedFails = false;
        return Promise.reject(new UnreachableError(peer, 'connection reset'));
      }
      return undefined;
    });
    await expect(peers.replicate('busy:1', Buffer.from('k'), rec(1))).rejects.toThrow();
    await peers.fetch('busy:1', Buffer.from('k'));
    await peers.fetch('busy:1', Buffer.from('k'));
    await peers.fetch('busy:1', Buffer.from('k'));
    expect(sent).toEqual([
      'busy:1 REPLICATE',
      'busy:1 REPLICA_MISSED',
      'busy:1 FETCH',
      'busy:1 REPLICA_MISSED',
      'busy:1 FETCH',
      'busy:1 FETCH',
    ]);
  });
});

describe('PeerClient.reset', () => {
  it('fails a request waiting on the peer (one sent into a partition), and the next one dials anew', async () => {
    // A peer that accepted the connection and never answers, as one behind a partition.
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = `127.0.0.1:${(silent.address() as { port: number }).port}`;
    const pool = new ConnectionPool({ requestTimeoutMs: 60_000, minBackoffMs: 60_000 });
    try {
      const peers = new PeerClient(pool);
      const waiting = peers.digest(address, 'me:1', 3).catch((e: unknown) => e);
      while (sockets.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      peers.reset(address);
      const err = (await waiting) as Error;
      expect(err).toBeInstanceOf(UnreachableError);
      expect(err.message).toBe(`${address} is unreachable (connection reset)`);
      expect(peers.isAvailable(address)).toBe(true);
    } finally {
      pool.close();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
