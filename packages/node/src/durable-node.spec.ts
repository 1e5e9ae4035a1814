import fs, { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DataDirLockedError,
  OK,
  RespConnection,
  SimpleString,
  parseExposition,
  sampleValue,
} from '@kv/protocol';
import { InvalidNodeOptionError } from './errors';
import { LmdbEngine } from './lmdb-engine';
import { startNode, type KvNode, type NodeOptions } from './node';
import { LMDB_SUBDIR } from './storage';
import { startCluster, waitFor, type TestCluster } from './test-support/cluster';
import { INLINE_SYNC_BYTES } from './write-ahead-log';

/**
 * Holds every sync the thread pool is asked for (a frame over INLINE_SYNC_BYTES is synced
 * there; a small one, on the event loop, would hold everything by itself) until `release`,
 * which also lets later syncs run at once. `held` counts those waiting.
 */
function holdPoolSyncs(): { held: () => number; release: () => void } {
  const real = fs.fdatasync;
  const waiting: (() => void)[] = [];
  const sync = jest
    .spyOn(fs, 'fdatasync')
    .mockImplementation(
      ((fd: number, done: (err: NodeJS.ErrnoException | null) => void) =>
        void waiting.push(() => real(fd, done))) as typeof fs.fdatasync,
    );
  return {
    held: () => waiting.length,
    release: () => {
      sync.mockRestore();
      for (const go of waiting.splice(0)) go();
    },
  };
}

describe('a node with a data directory', () => {
  let root: string;
  let cluster: TestCluster;
  let connections: RespConnection[];

  const start = (dataDir: string, options: Partial<NodeOptions> = {}): Promise<KvNode> =>
    cluster.addNode({ dataDir, ...options });
  const connect = async (node: KvNode): Promise<RespConnection> => {
    const c = await RespConnection.connect({ port: node.port, requestTimeoutMs: 5000 });
    connections.push(c);
    return c;
  };

  beforeEach(async () => {
    root = mkdtempSync(join(tmpdir(), 'kv-durable-'));
    connections = [];
    cluster = await startCluster(0);
  });
  afterEach(async () => {
    for (const c of connections) c.destroy();
    await cluster.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('comes back with its records and tombstones, then catches up what it missed', async () => {
    const dirs = [0, 1, 2].map((i) => join(root, `node-${i}`));
    for (const dir of dirs) await start(dir);
    await waitFor(() => cluster.nodes.every((n) => n.ring?.size === 3));
    const c = await connect(cluster.nodes[0] as KvNode);
    for (let i = 0; i < 50; i++) expect(await c.send(['SET', `k:${i}`, `v${i}`])).toEqual(OK);
    for (let i = 0; i < 10; i++) expect(await c.send(['DEL', `k:${i}`])).toBe(1);
    const restarted = cluster.nodes[2] as KvNode;
    const port = restarted.port;
    // Every write was acknowledged by 2 of 3 replicas: wait for the third copy too.
    await waitFor(() => restarted.store.size === 50, 30_000);
    await restarted.close({ leave: false });
    cluster.nodes.splice(2, 1);
    for (let i = 50; i < 60; i++) expect(await c.send(['SET', `k:${i}`, `v${i}`])).toEqual(OK);
    expect(await c.send(['DEL', 'k:10'])).toBe(1);

    // Its own data, as the restart finds it: 50 records, 10 of them tombstones (read from
    // the directory itself: once the node runs, hints may arrive at any moment).
    const kept = LmdbEngine.open({ path: join(dirs[2] as string, LMDB_SUBDIR) });
    try {
      expect([kept.size, kept.tombstones]).toEqual([50, 10]);
      expect(kept.get(Buffer.from('k:20'))?.value?.toString()).toBe('v20');
      expect(kept.get(Buffer.from('k:5'))?.value).toBeNull();
    } finally {
      await kept.close();
    }
    const back = await start(dirs[2] as string, { port });
    // Then what it missed arrives through the sync rounds.
    await waitFor(() => back.store.size === 60 && back.store.tombstones === 11, 30_000);
    const own = await connect(back);
    expect(await own.send(['GET', 'k:55'])).toEqual(Buffer.from('v55'));
    expect(await own.send(['GET', 'k:10'])).toBeNull();
    expect(await own.send(['GET', 'k:3'])).toBeNull();
  });

  it('keeps the hints it holds for an unreachable replica across its own restart', async () => {
    const dirs = [0, 1, 2].map((i) => join(root, `hinted-${i}`));
    for (const dir of dirs) await start(dir);
    await waitFor(() => cluster.nodes.every((n) => n.ring?.size === 3));
    const [a, , down] = cluster.nodes as [KvNode, KvNode, KvNode];
    await down.close({ leave: false });
    const c = await connect(a);
    for (let i = 0; i < 20; i++) expect(await c.send(['SET', `h:${i}`, 'v'])).toEqual(OK);
    const pending = async (node: KvNode): Promise<number> => {
      const info = String(await (await connect(node)).send(['INFO', 'rebalance']));
      return Number(/hints_pending:(\d+)/.exec(info)?.[1]);
    };
    expect(await pending(a)).toBe(20);
    const port = a.port;
    await a.close({ leave: false });
    cluster.nodes.splice(cluster.nodes.indexOf(a), 1);
    const back = await start(dirs[0] as string, { port });
    expect(await pending(back)).toBe(20);
  });

  it('answers a write, and a read of it, only once the write-ahead log has synced it; never when that sync fails', async () => {
    const node = await start(join(root, 'gated'), { fsync: 'always' });
    await waitFor(() => node.ring?.size === 1);
    const writer = await connect(node);
    const reader = await connect(node);
    expect(await writer.send(['PUT', 'warm', '1', 'W', '1'])).toEqual(OK);
    // The log's next sync is held until the test lets it run.
    const large = 'v'.repeat(INLINE_SYNC_BYTES + 1);
    const syncs = holdPoolSyncs();
    const answered: string[] = [];
    const written = writer
      .send(['PUT', 'k', large, 'W', '1'])
      .then((r) => answered.push('PUT') && r);
    await waitFor(() => syncs.held() > 0);
    const read = reader.send(['GET', 'k']).then((r) => answered.push('GET') && r);
    await new Promise((resolve) => setTimeout(resolve, 50));
    // Stored and readable inside the node, but nothing said so to anyone yet.
    expect(node.store.read(Buffer.from('k'))?.value?.toString()).toBe(large);
    expect(answered).toEqual([]);
    syncs.release();
    expect(await written).toEqual(OK);
    expect(await read).toEqual(Buffer.from(large));

    // A sync of the log that fails (others in this process, the coordinator's, go on): the
    // write is never acknowledged (its connection is closed unanswered), and the node,
    // which can make no further write durable, stops.
    const real = fs.fdatasync;
    const failing = jest.spyOn(fs, 'fdatasync').mockImplementation(((
      fd: number,
      done: (err: NodeJS.ErrnoException | null) => void,
    ) => {
      if (!new Error().stack?.includes('write-ahead-log')) return real(fd, done);
      process.nextTick(done, new Error('EIO: i/o error, fdatasync'));
    }) as typeof fs.fdatasync);
    await expect(writer.send(['PUT', 'lost', large, 'W', '1'])).rejects.toThrow();
    await node.closed;
    failing.mockRestore();
    expect(node.failure?.message).toBe(
      'the write-ahead log failed (EIO: i/o error, fdatasync); it acknowledges nothing more until the node restarts',
    );
    await expect(reader.send(['GET', 'k'])).rejects.toThrow();
    // Started again on its directory, it has what it acknowledged.
    const back = await start(join(root, 'gated'), { fsync: 'always' });
    expect(back.store.read(Buffer.from('k'))?.value?.toString()).toBe(large);
    expect(back.store.read(Buffer.from('warm'))?.value?.toString()).toBe('1');
  });

  it('holds clients at --max-in-flight while its log is slow to sync, so writes do not pile up', async () => {
    const node = await start(join(root, 'bounded'), { fsync: 'always', maxInFlight: 8 });
    await waitFor(() => node.ring?.size === 1);
    const c = await connect(node);
    expect(await c.send(['PUT', 'warm', '1', 'W', '1'])).toEqual(OK);
    const large = 'v'.repeat(INLINE_SYNC_BYTES + 1);
    const syncs = holdPoolSyncs();
    const writes = Array.from({ length: 100 }, (_, i) => c.send(['PUT', `k${i}`, large, 'W', '1']));
    let taken = 0;
    try {
      await waitFor(() => syncs.held() > 0 && node.store.size - 1 >= 8);
      await new Promise((resolve) => setTimeout(resolve, 50));
      taken = node.store.size - 1;
    } finally {
      // Released whatever happened, so that the node can stop.
      syncs.release();
    }
    // Eight taken while the sync was held, their replies waiting for it; the rest unread.
    expect(taken).toBe(8);
    expect(node.metrics.counters.connectionsHeld.value).toBeGreaterThan(0);
    expect(await Promise.all(writes)).toEqual(Array.from({ length: 100 }, () => OK));
    expect(node.store.size).toBe(101);
  });

  it('reports the syncs of its write-ahead log, and the writes waiting for LMDB, in /metrics and INFO', async () => {
    const node = await start(join(root, 'observed'), { fsync: 'always', metricsPort: 0 });
    await waitFor(() => node.ring?.size === 1);
    const clients = await Promise.all([0, 1, 2, 3].map(() => connect(node)));
    // Four writers at once, five times: up to four writes per sync.
    for (let round = 0; round < 5; round++)
      await Promise.all(clients.map((c, i) => c.send(['PUT', `k:${round}:${i}`, 'v', 'W', '1'])));
    const scraped = parseExposition(
      await (await fetch(`http://127.0.0.1:${node.metricsPort}/metrics`)).text(),
    );
    const value = (name: string): number | undefined => sampleValue(scraped, name);
    const synced = value('kv_log_synced_writes_total') ?? 0;
    const syncs = value('kv_log_sync_duration_seconds_count') ?? 0;
    expect(synced).toBeGreaterThanOrEqual(20);
    expect(syncs).toBeGreaterThanOrEqual(5);
    expect(syncs).toBeLessThanOrEqual(synced);
    expect(value('kv_log_synced_bytes_total')).toBeGreaterThan(20 * 'k:0:0v'.length);
    expect(value('kv_log_sync_duration_seconds_sum')).toBeGreaterThan(0);
    // LMDB takes the log's writes every 50 ms: until then they are pending.
    expect(value('kv_log_pending_writes')).toBeLessThanOrEqual(synced);
    expect(value('kv_log_pending_bytes')).toBeDefined();
    expect(value('kv_storage_commits_failing')).toBe(0);
    const info = String(await clients[0]?.send(['INFO', 'persistence']));
    const field = (name: string): number =>
      Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1]);
    expect(field('log_synced_writes')).toBe(synced);
    expect(field('log_syncs')).toBe(syncs);
    expect(field('commits_failing')).toBe(0);
    // What the coordinator's dashboard reads of the node's disk.
    expect(field('log_sync_p99_usec')).toBeGreaterThan(0);
    expect(info).toMatch(/^storage_engine:lmdb\r?$/m);
    expect(info).toMatch(/^fsync:always\r?$/m);
    await waitFor(() => node.store.backlog.writes === 0);
    expect(
      sampleValue(
        parseExposition(await (await fetch(`http://127.0.0.1:${node.metricsPort}/metrics`)).text()),
        'kv_log_pending_writes',
      ),
    ).toBe(0);
  });

  it('refuses a second node on a data directory in use, naming the process', async () => {
    const dir = join(root, 'shared');
    await start(dir);
    await expect(start(dir)).rejects.toThrow(DataDirLockedError);
    await expect(start(dir)).rejects.toThrow(
      `data directory ${dir} is in use by process ${process.pid}`,
    );
  });

  it('says which directory it could not open, and asks about the disk when it is full or failing', async () => {
    const dir = join(root, 'full');
    // As LMDB fails a transaction on a full disk (replaying the log on open, say).
    const io = Object.assign(new Error('Input/output error'), { code: 5 });
    jest.spyOn(LmdbEngine, 'open').mockImplementationOnce(() => {
      throw io;
    });
    await expect(start(dir)).rejects.toThrow(
      `opening the data directory ${dir} failed (Input/output error): is its disk full or failing?`,
    );
    const denied = Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
    jest.spyOn(LmdbEngine, 'open').mockImplementationOnce(() => {
      throw denied;
    });
    await expect(start(dir)).rejects.toHaveProperty(
      'message',
      `opening the data directory ${dir} failed (EACCES: permission denied)`,
    );
    // The directory is given up each time: the node starts on it once the disk is sound.
    const node = await start(dir);
    expect(node.port).toBeGreaterThan(0);
  });

  it('keeps its files under <dir>/lmdb, released when it stops', async () => {
    const dir = join(root, 'files');
    const node = await start(dir);
    await waitFor(() => node.ring?.size === 1);
    const c = await connect(node);
    expect(await c.send(['SET', 'a', '1', 'W', '1'])).toEqual(OK);
    const info = String(await c.send(['INFO', 'persistence']));
    expect(info).toContain(`storage_engine:lmdb\r\ndata_dir:${dir}\r\nfsync:always\r\n`);
    // Acknowledged from the log; LMDB takes it at the next application, 50 ms later at most.
    expect(info).toMatch(/log_pending_writes:[01]\r\nlog_pending_bytes:\d+\r\n/);
    await waitFor(async () =>
      String(await c.send(['INFO', 'persistence'])).includes(
        'log_pending_writes:0\r\nlog_pending_bytes:0\r\n',
      ),
    );
    await node.close({ leave: false });
    const engine = LmdbEngine.open({ path: join(dir, LMDB_SUBDIR) });
    try {
      expect(engine.get(Buffer.from('a'))?.value?.toString()).toBe('1');
    } finally {
      await engine.close();
    }
  });

  it('backs up under writes into a data directory a new node starts on with the records', async () => {
    const node = await start(join(root, 'live'));
    await waitFor(() => node.ring?.size === 1);
    const c = await connect(node);
    for (let i = 0; i < 200; i++) await c.send(['SET', `b:${i}`, `v${i}`, 'W', '1']);
    await c.send(['DEL', 'b:0', 'W', '1']);
    // Writes go on while the copy is made; the copy holds every write acknowledged before.
    const writes = Array.from({ length: 200 }, (_, i) =>
      c.send(['SET', `during:${i}`, 'x', 'W', '1']),
    );
    const backupDir = join(root, 'backup');
    expect(await c.send(['BACKUP', backupDir])).toEqual(
      new SimpleString(`OK backed up to ${backupDir}`),
    );
    await Promise.all(writes);
    await expect(c.send(['BACKUP', backupDir])).rejects.toThrow(
      `ERR ${join(backupDir, LMDB_SUBDIR)} already holds a database: back up into a new directory`,
    );
    await expect(c.send(['BACKUP', 'relative/dir'])).rejects.toThrow(
      "WRONGARGS BACKUP needs an absolute directory on the node's machine, got 'relative/dir'",
    );
    await node.close({ leave: false });
    cluster.nodes.splice(0, 1);

    const restored = await start(backupDir);
    await waitFor(() => restored.ring !== undefined);
    expect(restored.store.value(Buffer.from('b:199'))?.toString()).toBe('v199');
    expect(restored.store.read(Buffer.from('b:0'))?.value).toBeNull();
    expect(restored.store.size - restored.store.tombstones).toBeGreaterThanOrEqual(199);
  });

  it('refuses BACKUP on a node that keeps its records in memory', async () => {
    const node = await cluster.addNode();
    const c = await connect(node);
    await expect(c.send(['BACKUP', join(root, 'none')])).rejects.toThrow(
      'ERR this node keeps its records in memory (started without --data-dir): there is nothing to back up',
    );
  });

  it('explains engine and data directory options that do not go together', async () => {
    await expect(start(join(root, 'x'), { engine: 'memory' })).rejects.toThrow(
      new InvalidNodeOptionError(
        'the memory engine keeps nothing on disk: drop --data-dir, or use --engine lmdb',
      ),
    );
    await expect(
      startNode({ port: 0, silent: true, engine: 'lmdb', coordinator: '127.0.0.1:1' }),
    ).rejects.toThrow('the lmdb engine needs a data directory (--data-dir DIR)');
  });
});
