import { ConnectionPool, ReplyError, createRespServer, type RespServer } from '@kv/protocol';
import type { Logger } from 'winston';
import { HintStore, type HintStoreOptions } from './hints';
import { NodeMetrics } from './metrics';
import { HybridLogicalClock } from './hlc';
import { MemoryEngine } from './memory-engine';
import { PeerClient } from './peer-client';
import { Store } from './store';
import { serveAsReplica } from './test-support/replica-server';

const rec = (ts: number, value = 'v') => ({
  ts,
  origin: 'a:1',
  expiresAt: 0,
  value: Buffer.from(value),
});

/** A hint store and what its metrics read, as INFO shows them. */
function hintStore(options: HintStoreOptions = {}): {
  hints: HintStore;
  stats: () => Record<'pending' | 'pendingBytes' | 'delivered' | 'dropped', number>;
} {
  const metrics = new NodeMetrics();
  return {
    hints: new HintStore({ ...options, metrics }),
    stats: () => ({
      pending: metrics.gauges.hintsPending.value,
      pendingBytes: metrics.gauges.hintsPendingBytes.value,
      delivered: metrics.counters.hintsDelivered.value,
      dropped: metrics.counters.hintsDropped.value,
    }),
  };
}

describe('HintStore', () => {
  it('keeps the newest hint per replica and key', () => {
    const { hints, stats } = hintStore();
    hints.add('b:1', Buffer.from('k'), rec(5));
    hints.add('b:1', Buffer.from('k'), rec(3));
    hints.add('b:1', Buffer.from('k'), rec(7));
    hints.add('c:1', Buffer.from('k'), rec(7));
    expect(stats()).toMatchObject({ pending: 2, dropped: 0 });
  });

  it('drops and counts hints past its bounds', () => {
    const byCount = hintStore({ maxHints: 2 });
    for (const k of ['a', 'b', 'c']) byCount.hints.add('b:1', Buffer.from(k), rec(1));
    expect(byCount.stats()).toMatchObject({ pending: 2, dropped: 1 });
    const byBytes = hintStore({ maxBytes: 100 });
    expect(byBytes.hints.add('b:1', Buffer.from('k'), rec(1, 'x'.repeat(200)))).toBe(false);
    expect(byBytes.stats()).toMatchObject({ pending: 0, pendingBytes: 0, dropped: 1 });
  });

  it('discards the hints of a replica that left, counting them', () => {
    const logged: string[] = [];
    const logger = { info: (line: string) => logged.push(line) } as unknown as Logger;
    const { hints, stats } = hintStore({ logger });
    hints.add('b:1', Buffer.from('k1'), rec(1));
    hints.add('b:1', Buffer.from('k2'), rec(1));
    hints.discard('b:1');
    expect(stats()).toMatchObject({ pending: 0, pendingBytes: 0, dropped: 2 });
    expect(hints.replicas()).toEqual([]);
    expect(logged.at(-1)).toBe('Dropped 2 hint(s) for b:1: it is no longer a member');
  });

  it('says how many hints it restored from its journal, per replica, and how many it dropped', () => {
    const logged: string[] = [];
    const log = (line: string): number => logged.push(line);
    const logger = { info: log, warn: log } as unknown as Logger;
    const saved: string[] = [];
    const removed: string[] = [];
    const journal = {
      load: () => [
        { replica: 'b:1', key: Buffer.from('k1'), record: rec(1) },
        { replica: 'b:1', key: Buffer.from('k2'), record: rec(1) },
        { replica: 'c:1', key: Buffer.from('k1'), record: rec(1) },
        { replica: 'c:1', key: Buffer.from('k2'), record: rec(1) },
      ],
      save: (replica: string) => saved.push(replica),
      remove: (replica: string, key: Buffer) => removed.push(`${replica} ${key.toString()}`),
    };
    // Its bound was lowered since: the fourth is dropped, here and on disk.
    const { hints, stats } = hintStore({ logger, journal, maxHints: 3 });
    expect(stats()).toMatchObject({ pending: 3, dropped: 1 });
    expect(logged).toEqual([
      'Restored 2 hint(s) for b:1 from the data directory',
      'Restored 1 hint(s) for c:1 from the data directory',
      'Dropped 1 hint(s) kept in the data directory: past --max-hints or --max-hint-bytes',
    ]);
    expect(saved).toEqual([]);
    expect(removed).toEqual(['c:1 k2']);
    expect(hints.replicas()).toEqual(['b:1', 'c:1']);
  });

  describe('delivery', () => {
    let server: RespServer | undefined;
    const pool = new ConnectionPool({ requestTimeoutMs: 500, connectTimeoutMs: 500 });
    afterEach(async () => {
      await server?.close(10);
    });
    afterAll(() => pool.close());

    it('replays hints to a reachable member as REPLICATE and forgets them', async () => {
      const received: string[] = [];
      server = createRespServer({
        handler: (args) => {
          received.push(args.map(String).join(' '));
          return [1, 0, Number(args[2]), args[3] as Buffer];
        },
      });
      const { port } = await server.listen(0, '127.0.0.1');
      const replica = `127.0.0.1:${port}`;
      const logged: string[] = [];
      const logger = { info: (line: string) => logged.push(line) } as unknown as Logger;
      const { hints, stats } = hintStore({ logger });
      hints.add(replica, Buffer.from('k'), rec(8, 'early'), 'connection refused');
      hints.add(replica, Buffer.from('k'), rec(9, 'late'), 'connection refused');
      hints.add('gone:1', Buffer.from('k'), rec(9));
      await hints.deliver(new PeerClient(pool), (id) => id === replica);
      expect(received).toEqual(['REPLICATE k 9 a:1 0 late']);
      expect(stats()).toMatchObject({ pending: 0, delivered: 1, dropped: 1 });
      // Told once when a replica's hints start, with why, and once when none are left; the
      // hints of a replica that is no longer a member are dropped, and that is told too.
      expect(logged).toEqual([
        `Keeping writes for ${replica} as hints until they can be delivered: connection refused`,
        'Keeping writes for gone:1 as hints until they can be delivered',
        `Delivered every write kept for ${replica}`,
        'Dropped 1 hint(s) for gone:1: it is no longer a member',
      ]);
    });

    it('delivers a replica its hints when it asks, a few batches at a time, and says how many are left', async () => {
      const store = new Store(new MemoryEngine(), new HybridLogicalClock());
      const commands: string[] = [];
      server = createRespServer({
        handler: (args) => {
          commands.push(String(args[0]));
          return serveAsReplica(store, args);
        },
      });
      const { port } = await server.listen(0, '127.0.0.1');
      const replica = `127.0.0.1:${port}`;
      const { hints, stats } = hintStore();
      for (let i = 0; i < 1500; i++) hints.add(replica, Buffer.from(`k${i}`), rec(9));
      hints.add('other:1', Buffer.from('k'), rec(9));
      const peers = new PeerClient(pool);
      expect(await hints.deliverTo(peers, replica)).toBe(1500 - 1024);
      expect(store.size).toBe(1024);
      // Each batch of hints is sent at once, so it travels as one request.
      expect(commands).toEqual(Array(4).fill('REPLICATE_BATCH'));
      expect(await hints.deliverTo(peers, replica)).toBe(0);
      expect(store.size).toBe(1500);
      expect(stats()).toMatchObject({ pending: 1, delivered: 1500 });
      expect(hints.replicas()).toEqual(['other:1']);
    });

    it('keeps the hints a replica asked for when their delivery fails, and says so', async () => {
      server = createRespServer({ handler: () => new ReplyError('CLOCKSKEW fenced') });
      const { port } = await server.listen(0, '127.0.0.1');
      const replica = `127.0.0.1:${port}`;
      const { hints, stats } = hintStore();
      hints.add(replica, Buffer.from('k'), rec(9));
      await expect(hints.deliverTo(new PeerClient(pool), replica)).rejects.toThrow('CLOCKSKEW');
      expect(stats()).toMatchObject({ pending: 1, delivered: 0 });
      expect(hints.replicas()).toEqual([replica]);
    });
  });
});
