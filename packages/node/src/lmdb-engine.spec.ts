import fs, { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { open } from 'lmdb';
import { RespParser, encodeCommand } from '@kv/protocol';
import { token } from '@kv/ring';
import { EngineClosedError } from './errors';
import { HintStore } from './hints';
import { HybridLogicalClock, LOGICAL_BITS } from './hlc';
import { FSYNC_MODES } from './engine';
import { LmdbEngine, type LmdbEngineOptions } from './lmdb-engine';
import { LogBacklogError } from './lmdb-log-applier';
import { MemoryEngine } from './memory-engine';
import type { StoredRecord } from './record';
import { replicateBatchArgs } from './replication';
import { Store } from './store';
import { describeEngineContract } from './test-support/engine-contract';
import { serveAsReplica } from './test-support/replica-server';
import { WriteAheadLogError } from './write-ahead-log';

const dirs: string[] = [];
function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kv-lmdb-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** What a reply waits for on an engine with a write-ahead log, which it must have. */
function logSynced(engine: LmdbEngine): Promise<void> | undefined {
  if (!engine.durable) throw new Error('the engine has no write-ahead log');
  return engine.durable();
}

const rec = (value: string | null, ts = 1, expiresAt = 0): StoredRecord => ({
  value: value === null ? null : Buffer.from(value),
  ts,
  origin: 'n1',
  expiresAt,
});

for (const fsync of FSYNC_MODES)
  describeEngineContract(`LmdbEngine --fsync ${fsync}`, () =>
    LmdbEngine.open({ path: freshDir(), fsync }),
  );

describe('LmdbEngine', () => {
  let engine: LmdbEngine | undefined;
  afterEach(async () => {
    await engine?.close();
    engine = undefined;
  });

  it('keeps records, tombstones and totals across a close and a reopen', async () => {
    const path = freshDir();
    engine = LmdbEngine.open({ path });
    await engine.put(Buffer.from('a'), rec('1', 5, 1_900_000_000_000));
    await engine.put(Buffer.from('gone'), rec(null, 6));
    await engine.put(Buffer.from('removed'), rec('x', 7));
    await engine.remove(Buffer.from('removed'));
    const totals = [engine.size, engine.tombstones, engine.bytes];
    await engine.close();
    engine = LmdbEngine.open({ path });
    expect(engine.get(Buffer.from('a'))).toEqual(rec('1', 5, 1_900_000_000_000));
    expect(engine.get(Buffer.from('gone'))).toEqual(rec(null, 6));
    expect(engine.get(Buffer.from('removed'))).toBeUndefined();
    expect([engine.size, engine.tombstones, engine.bytes]).toEqual(totals);
  });

  it('shows a write to reads at once, before its transaction commits', async () => {
    engine = LmdbEngine.open({ path: freshDir() });
    const written = engine.put(Buffer.from('k'), rec('now', 3));
    expect(engine.get(Buffer.from('k'))).toEqual(rec('now', 3));
    expect(engine.size).toBe(1);
    const removed = engine.remove(Buffer.from('k'));
    expect(engine.get(Buffer.from('k'))).toBeUndefined();
    expect(engine.size).toBe(0);
    await Promise.all([written, removed]);
    expect(engine.get(Buffer.from('k'))).toBeUndefined();
  });

  it('group-commits concurrent writes: one sync covers them all, and all are stored', async () => {
    const path = freshDir();
    const writer = LmdbEngine.open({ path, fsync: 'always' });
    engine = writer;
    const onPool = jest.spyOn(fs, 'fdatasync');
    const inline = jest.spyOn(fs, 'fdatasyncSync');
    const keys = Array.from({ length: 500 }, (_, i) => Buffer.from(`concurrent:${i}`));
    for (const [i, k] of keys.entries()) void writer.put(k, rec(`v${i}`));
    await logSynced(writer);
    expect(onPool.mock.calls.length + inline.mock.calls.length).toBe(1);
    jest.restoreAllMocks();
    await engine.close();
    engine = LmdbEngine.open({ path });
    expect(engine.size).toBe(500);
    for (const [i, k] of keys.entries()) expect(engine.get(k)?.value?.toString()).toBe(`v${i}`);
  });

  it('stores keys longer than LMDB allows, distinct from keys sharing their first bytes', async () => {
    const path = freshDir();
    engine = LmdbEngine.open({ path });
    const long = Buffer.alloc(4096, 'a');
    const other = Buffer.concat([Buffer.alloc(4000, 'a'), Buffer.from('b')]);
    await engine.put(long, rec('long'));
    await engine.put(other, rec('other'));
    await engine.close();
    engine = LmdbEngine.open({ path });
    expect(engine.get(long)?.value?.toString()).toBe('long');
    expect(engine.get(other)?.value?.toString()).toBe('other');
    const walked = [...engine.entries()].map(([k, , t]) => [k.toString('hex'), t]);
    expect(walked.sort()).toEqual(
      [
        [long.toString('hex'), token(long)],
        [other.toString('hex'), token(other)],
      ].sort(),
    );
  });

  it('refuses writes once closed, with an error saying why', async () => {
    const closed = LmdbEngine.open({ path: freshDir() });
    await closed.close();
    expect(() => closed.put(Buffer.from('k'), rec('v'))).toThrow(EngineClosedError);
  });

  it('writes a backup that opens as a database with the same records', async () => {
    engine = LmdbEngine.open({ path: freshDir() });
    for (let i = 0; i < 100; i++) await engine.put(Buffer.from(`b:${i}`), rec(`v${i}`));
    await engine.put(Buffer.from('b:7'), rec(null, 2));
    const target = join(freshDir(), 'copy');
    await engine.backup(target);
    expect(readdirSync(target)).toContain('data.mdb');
    const copy = LmdbEngine.open({ path: target });
    try {
      expect([...copy.entries()]).toEqual([...engine.entries()]);
      expect([copy.size, copy.tombstones]).toEqual([100, 1]);
    } finally {
      await copy.close();
    }
  });
});

describe('LmdbEngine --fsync always: the write-ahead log', () => {
  const opened: LmdbEngine[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((e) => e.close()));
    jest.restoreAllMocks();
  });
  const openAt = (
    path: string,
    options: Pick<LmdbEngineOptions, 'maxPendingBytes' | 'onTrouble'> = {},
  ): LmdbEngine => {
    const engine = LmdbEngine.open({ path, fsync: 'always', ...options });
    opened.push(engine);
    return engine;
  };
  const observers: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    await Promise.all(observers.splice(0).map((o) => o.close()));
  });
  /** Transactions LMDB has committed in the database at `path`, read from a second handle. */
  const commitsAt = (path: string): (() => number) => {
    const observer = open({ path, maxDbs: 3, readOnly: true });
    observers.push(observer);
    return () => (observer.getStats() as { lastTxnId: number }).lastTxnId;
  };

  it('acknowledges from the log: a copy of the directory taken then, opened, holds every write', async () => {
    const path = freshDir();
    const engine = openAt(path);
    await engine.put(Buffer.from('before'), rec('0', 1));
    const keys = Array.from({ length: 300 }, (_, i) => Buffer.from(`crash:${i}`));
    for (const [i, k] of keys.entries()) void engine.put(k, rec(`v${i}`, 10 + i));
    void engine.remove(Buffer.from('before'));
    void engine.put(Buffer.from('gone'), rec(null, 5));
    // Accepted at once; acknowledged once the log has them.
    await logSynced(engine);
    // What a SIGKILL right now leaves on disk: LMDB as committed so far, and the log.
    const image = freshDir();
    cpSync(path, image, { recursive: true, filter: (src) => !src.endsWith('lock.mdb') });
    const totals = [engine.size, engine.tombstones, engine.bytes];
    const again = openAt(image);
    // Every write the log held, whether LMDB had it yet or not: 1 + 300 + 1 + 1.
    expect(again.replayed).toBe(303);
    for (const [i, k] of keys.entries()) expect(again.get(k)).toEqual(rec(`v${i}`, 10 + i));
    expect(again.get(Buffer.from('before'))).toBeUndefined();
    expect(again.get(Buffer.from('gone'))).toEqual(rec(null, 5));
    expect([again.size, again.tombstones, again.bytes]).toEqual(totals);
    // Replayed once: a clean close and a reopen count the same.
    await again.close();
    const third = openAt(image);
    expect([third.size, third.tombstones, third.bytes]).toEqual(totals);
    expect(third.replayed).toBe(0);
    // The replayed segments went with the clean close; the reopened engine began one.
    expect(readdirSync(join(image, 'log')).filter((f) => f.endsWith('.wal'))).toHaveLength(1);
  });

  it('replays a log left by a crash under always when the directory opens under periodic, then deletes it', async () => {
    const path = freshDir();
    const engine = openAt(path);
    const keys = Array.from({ length: 50 }, (_, i) => Buffer.from(`switch:${i}`));
    for (const [i, k] of keys.entries()) void engine.put(k, rec(`v${i}`, 1 + i));
    await logSynced(engine);
    const image = freshDir();
    cpSync(path, image, { recursive: true, filter: (src) => !src.endsWith('lock.mdb') });
    const periodic = LmdbEngine.open({ path: image, fsync: 'periodic' });
    opened.push(periodic);
    // Without a log it has nothing for a server to hold replies on.
    expect([engine.durable, periodic.durable]).toEqual([expect.any(Function), undefined]);
    for (const [i, k] of keys.entries()) expect(periodic.get(k)).toEqual(rec(`v${i}`, 1 + i));
    expect(periodic.size).toBe(50);
    // Deleted once LMDB has synced the replay.
    for (let waited = 0; existsSync(join(image, 'log')); waited += 10) {
      if (waited > 5000) throw new Error('the replayed log was not deleted');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await periodic.close();
    const again = LmdbEngine.open({ path: image, fsync: 'never' });
    opened.push(again);
    expect([again.size, again.get(keys[7] as Buffer), again.durable]).toEqual([
      50,
      rec('v7', 8),
      undefined,
    ]);
  });

  it('iterates keys the log holds and LMDB does not yet, in token order, with LMDB’s own', async () => {
    const path = freshDir();
    const engine = openAt(path);
    const memory = new MemoryEngine();
    const early = Array.from({ length: 40 }, (_, i) => Buffer.from(`early:${i}`));
    for (const k of early) {
      await engine.put(k, rec('e'));
      memory.put(k, rec('e'));
    }
    await engine.close();
    const reopened = openAt(path);
    // These are acknowledged, and no application to LMDB has run yet.
    const late = Array.from({ length: 1200 }, (_, i) => Buffer.from(`late:${i}`));
    for (const k of late) void reopened.put(k, rec('l'));
    await logSynced(reopened);
    for (const k of late) memory.put(k, rec('l'));
    void reopened.remove(early[3] as Buffer);
    await logSynced(reopened);
    memory.remove(early[3] as Buffer);
    const listed = (e: LmdbEngine | MemoryEngine, range?: { start: number; end: number }) =>
      [...e.entries(range)].map(([k, r, t]) => [k.toString(), r.value?.toString(), t]);
    expect(listed(reopened)).toEqual(listed(memory));
    const half = { start: 2 ** 47, end: 2 ** 48 };
    expect(listed(reopened, half)).toEqual(listed(memory, half));
    expect(listed(reopened, half).length).toBeGreaterThan(0);
  });

  it('applies logged writes to LMDB in one transaction per interval, not one per write', async () => {
    const path = freshDir();
    const engine = openAt(path);
    // Opening a new database saves its totals: that commit first.
    await (engine as unknown as { root: { committed: Promise<void> } }).root.committed;
    const commits = commitsAt(path);
    const before = commits();
    // The interval (a timeout) is the test's to end, however long the syncs take on this
    // machine; the log's turns and lmdb-js's batching keep their own clocks.
    jest.useFakeTimers({
      doNotFake: [
        'Date',
        'hrtime',
        'nextTick',
        'performance',
        'queueMicrotask',
        'setImmediate',
        'clearImmediate',
        'setInterval',
        'clearInterval',
      ],
    });
    try {
      for (let i = 0; i < 20; i++) {
        void engine.put(Buffer.from(`one-by-one:${i}`), rec('v'));
        // Acknowledged one by one: each waits for its own sync of the log.
        await logSynced(engine);
      }
      expect(commits() - before).toBe(0);
      expect(engine.backlog.writes).toBe(20);
      jest.advanceTimersByTime(50);
    } finally {
      jest.useRealTimers();
    }
    for (let waited = 0; engine.backlog.writes > 0; waited++) {
      if (waited > 500) throw new Error('the interval came and nothing was applied');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(commits() - before).toBe(1);
    await engine.close();
    expect(readdirSync(join(path, 'log'))).toEqual([]);
  });

  it('past its bound of pending bytes, acknowledges a write only once LMDB has it', async () => {
    const path = freshDir();
    const engine = openAt(path, { maxPendingBytes: 1024 });
    await engine.put(Buffer.from('first'), rec('1'));
    const commits = commitsAt(path);
    const before = commits();
    // 2 KB waiting: over the bound, so the write waits for an application (its own
    // promise: what a reply waits for, counted as a request in flight).
    const applied = engine.put(Buffer.from('big'), rec('x'.repeat(2048)));
    expect(applied).toBeInstanceOf(Promise);
    await applied;
    expect(commits()).toBeGreaterThan(before);
    // What every reply waits for is the log's sync alone: nothing waits now.
    expect(logSynced(engine)).toBeUndefined();
    // Under the bound again: the log's sync is all a write waits for.
    expect(engine.backlog).toEqual({ writes: 0, bytes: 0 });
  });

  it('keeps writes pending and logged when applying them to LMDB fails, refuses more past the bound meanwhile, and applies them later', async () => {
    const path = freshDir();
    const told: (string | undefined)[] = [];
    const engine = openAt(path, {
      maxPendingBytes: 1024,
      onTrouble: (cause) => told.push(cause?.message),
    });
    const db = (engine as unknown as { db: { put: (...a: unknown[]) => Promise<boolean> } }).db;
    const put = jest
      .spyOn(db, 'put')
      .mockImplementationOnce(() => Promise.reject(new Error('MDB_MAP_FULL')));
    // Durable in the log all the same: what its reply waits for resolves.
    await engine.put(Buffer.from('k'), rec('y'.repeat(2048)));
    await logSynced(engine);
    expect(put).toHaveBeenCalledTimes(1);
    // Still readable, counted once, and still waiting for LMDB.
    expect(engine.get(Buffer.from('k'))?.value?.toString()).toBe('y'.repeat(2048));
    expect(engine.size).toBe(1);
    expect(engine.backlog.writes).toBe(1);
    // Past the bound with LMDB failing, the next write is refused before it is accepted.
    expect(() => engine.put(Buffer.from('refused'), rec('r'))).toThrow(LogBacklogError);
    expect(() => engine.put(Buffer.from('refused'), rec('r'))).toThrow(/MDB_MAP_FULL/);
    expect(engine.get(Buffer.from('refused'))).toBeUndefined();
    expect(engine.size).toBe(1);
    // The next application (retried on its own) stores it, and writes are taken again.
    for (let waited = 0; engine.backlog.writes > 0; waited += 10) {
      if (waited > 5000) throw new Error('the failed application was not retried');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // Told once that applying failed, and once that it succeeds again.
    expect(told).toEqual(['MDB_MAP_FULL', undefined]);
    expect(engine.commitsFailing).toBe(false);
    void engine.put(Buffer.from('k2'), rec('z'.repeat(2048)));
    await logSynced(engine);
    await engine.close();
    const again = openAt(path);
    expect(again.get(Buffer.from('k'))?.value?.length).toBe(2048);
    expect([again.size, again.get(Buffer.from('k2'))?.value?.length]).toEqual([2, 2048]);
  });

  it('closes after a failed commit without waiting for lmdb-js, and keeps its log', async () => {
    const path = freshDir();
    const engine = openAt(path);
    void engine.put(Buffer.from('k'), rec('v'));
    await logSynced(engine);
    // As lmdb-js is once a transaction failed: `committed` rejects, and its close (which
    // waits for that transaction's flush) never finishes.
    type Root = { committed: PromiseLike<void>; close(): Promise<void> };
    const root = (engine as unknown as { root: Root }).root;
    const db = (engine as unknown as { db: { put: (...a: unknown[]) => Promise<boolean> } }).db;
    const failure = Object.assign(new Error('Commit failed (see commitError for details)'), {
      commitError: Promise.reject(new Error('Input/output error')),
    });
    failure.commitError.catch(() => undefined);
    jest.spyOn(db, 'put').mockImplementation(() => Promise.reject(failure));
    const committed = root.committed;
    const rejecting = (_: unknown, fail?: (e: unknown) => unknown): unknown => fail?.(failure);
    root.committed = { then: rejecting as PromiseLike<void>['then'] };
    const close = jest.spyOn(root, 'close').mockReturnValue(new Promise(() => undefined));
    await engine.close();
    expect(close).toHaveBeenCalledTimes(1);
    // LMDB may not hold the write: its log segments stay, replayed at the next open.
    expect(readdirSync(join(path, 'log')).filter((f) => f.endsWith('.wal')).length).toBeGreaterThan(
      0,
    );
    jest.restoreAllMocks();
    root.committed = committed;
    await root.close();
    opened.splice(opened.indexOf(engine), 1);
    const again = openAt(path);
    expect(again.get(Buffer.from('k'))).toEqual(rec('v'));
  });

  it('refuses every write once its log has failed, and says why', async () => {
    const path = freshDir();
    const engine = openAt(path);
    // A small frame is synced on the event loop.
    const sync = jest.spyOn(fs, 'fdatasyncSync').mockImplementationOnce(() => {
      const err: NodeJS.ErrnoException = new Error('EIO: i/o error, fdatasync');
      err.code = 'EIO';
      throw err;
    });
    const failed = engine.failed;
    void engine.put(Buffer.from('lost'), rec('v'));
    // What a reply to that write waits for rejects: it is never acknowledged.
    await expect(logSynced(engine)).rejects.toThrow(WriteAheadLogError);
    sync.mockRestore();
    expect(() => engine.put(Buffer.from('after'), rec('v'))).toThrow(
      /the write-ahead log failed \(EIO: i\/o error, fdatasync\); it acknowledges nothing more until the node restarts/,
    );
    expect(() => engine.remove(Buffer.from('lost'))).toThrow(WriteAheadLogError);
    expect(engine.get(Buffer.from('after'))).toBeUndefined();
    // What its node stops on: the reason.
    await expect(failed).resolves.toMatchObject({
      message:
        'the write-ahead log failed (EIO: i/o error, fdatasync); it acknowledges nothing more until the node restarts',
    });
  });
});

describe('LmdbEngine --fsync periodic', () => {
  const opened: LmdbEngine[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((e) => e.close()));
    jest.restoreAllMocks();
  });

  /** An engine whose flush timer the test fires, and the syncs it asked LMDB for. */
  function periodic(fsyncIntervalMs?: number): {
    engine: LmdbEngine;
    tick(): void;
    syncs(): number;
  } {
    const setInterval = jest.spyOn(global, 'setInterval');
    const engine = LmdbEngine.open({ path: freshDir(), fsync: 'periodic', fsyncIntervalMs });
    opened.push(engine);
    const call = setInterval.mock.calls.find(([, ms]) => ms === (fsyncIntervalMs ?? 1000));
    if (!call) throw new Error('no flush timer at the interval given');
    const root = (engine as unknown as { root: { sync(done: () => void): void } }).root;
    const sync = jest.spyOn(root, 'sync');
    return { engine, tick: () => (call[0] as () => void)(), syncs: () => sync.mock.calls.length };
  }

  it('acknowledges at commit and syncs what was committed at the next tick of its interval', async () => {
    const { engine, tick, syncs } = periodic(250);
    await engine.put(Buffer.from('k'), rec('v'));
    expect(syncs()).toBe(0);
    tick();
    await engine.flush();
    expect(syncs()).toBe(1);
    // Nothing written since: the next tick has nothing to sync.
    tick();
    await engine.flush();
    expect(syncs()).toBe(1);
    await engine.remove(Buffer.from('k'));
    tick();
    await engine.flush();
    expect(syncs()).toBe(2);
  });

  it('syncs once more when closed, so a clean stop loses nothing', async () => {
    const { engine, syncs } = periodic();
    await engine.put(Buffer.from('k'), rec('v'));
    await engine.close();
    expect(syncs()).toBe(1);
  });

  it('refuses a write whose commit fails with -UNAVAILABLE and its cause, says so once, and says when commits succeed again', async () => {
    const told: (string | undefined)[] = [];
    const engine = LmdbEngine.open({
      path: freshDir(),
      fsync: 'periodic',
      onTrouble: (cause) => told.push(cause?.message),
    });
    opened.push(engine);
    const db = (engine as unknown as { db: { put: (...a: unknown[]) => Promise<boolean> } }).db;
    // As lmdb-js rejects a write when its transaction fails to commit (a full disk).
    const failure = (): Promise<boolean> => {
      const cause = Promise.reject(new Error('Input/output error'));
      return Promise.reject(
        Object.assign(new Error('Commit failed (see commitError for details)'), {
          commitError: cause,
        }),
      );
    };
    jest.spyOn(db, 'put').mockImplementationOnce(failure).mockImplementationOnce(failure);
    const refused = /^UNAVAILABLE the database could not commit the write \(Input\/output error\)/;
    await expect(engine.put(Buffer.from('a'), rec('1'))).rejects.toThrow(refused);
    await expect(engine.put(Buffer.from('b'), rec('2'))).rejects.toThrow(refused);
    // Nothing of them stays: not read, not counted.
    expect(engine.get(Buffer.from('a'))).toBeUndefined();
    expect(engine.size).toBe(0);
    expect(told).toEqual(['Input/output error']);
    expect(engine.commitsFailing).toBe(true);
    await engine.put(Buffer.from('c'), rec('3'));
    expect(engine.get(Buffer.from('c'))).toEqual(rec('3'));
    expect(told).toEqual(['Input/output error', undefined]);
    expect(engine.commitsFailing).toBe(false);
  });

  it('keeps its totals right when a refused write of a key was followed by another of it', async () => {
    const path = freshDir();
    const engine = LmdbEngine.open({ path, fsync: 'periodic' });
    opened.push(engine);
    const db = (engine as unknown as { db: { put: (...a: unknown[]) => Promise<boolean> } }).db;
    const refuse = (): Promise<boolean> =>
      Promise.reject(
        Object.assign(new Error('Commit failed (see commitError for details)'), {
          commitError: Promise.reject(new Error('Input/output error')),
        }),
      );
    const put = jest.spyOn(db, 'put');
    const k = Buffer.from('k');
    // The first write of a new key refused, the next one (counted from it) committed.
    put.mockImplementationOnce(refuse);
    const [first, second] = await Promise.allSettled([
      engine.put(k, rec('first', 1)),
      engine.put(k, rec('second', 2)),
    ]);
    expect([first.status, second.status]).toEqual(['rejected', 'fulfilled']);
    expect(engine.get(k)).toEqual(rec('second', 2));
    expect([engine.size, engine.bytes]).toEqual([1, expect.any(Number) as number]);
    const held = engine.bytes;
    // Both refused, over a committed copy: the key holds that copy, counted once.
    put.mockImplementationOnce(refuse).mockImplementationOnce(refuse);
    const both = await Promise.allSettled([
      engine.put(k, rec('third-longer', 3)),
      engine.put(k, rec('fourth-even-longer', 4)),
    ]);
    expect(both.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(engine.get(k)).toEqual(rec('second', 2));
    expect([engine.size, engine.bytes]).toEqual([1, held]);
    // A removal refused: still there.
    const remove = jest.spyOn(db as unknown as { remove: () => Promise<boolean> }, 'remove');
    remove.mockImplementationOnce(refuse);
    await expect(engine.remove(k)).rejects.toThrow(/^UNAVAILABLE the database could not commit/);
    expect([engine.size, engine.bytes]).toEqual([1, held]);
    // What was saved agrees: reopened, the same totals.
    await engine.close();
    opened.splice(opened.indexOf(engine), 1);
    const again = LmdbEngine.open({ path, fsync: 'periodic' });
    opened.push(again);
    expect([again.size, again.bytes, again.get(k)]).toEqual([1, held, rec('second', 2)]);
  });

  it('refuses an interval that is not a whole number of ms from 1', () => {
    for (const bad of [0, -5, 1.5, Number.NaN])
      expect(() =>
        LmdbEngine.open({ path: freshDir(), fsync: 'periodic', fsyncIntervalMs: bad }),
      ).toThrow(`the fsync interval must be a whole number of ms from 1, got ${bad}`);
  });
});

/** What a sequence may do to a store: write, delete, forget, purge, or reopen the engine. */
type Step =
  | { kind: 'put'; key: number; value: string; wall: number; ttl: number }
  | { kind: 'delete'; key: number; wall: number }
  | { kind: 'remove'; key: number }
  | { kind: 'purge'; grace: number }
  | { kind: 'reopen' };

const NOW = 2_000_000_000_000;
const KEYS = 12;
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant('put' as const),
    key: fc.nat(KEYS - 1),
    value: fc.string({ maxLength: 40 }),
    wall: fc.integer({ min: NOW - 10_000, max: NOW }),
    // 0: no expiry; otherwise an expiry between 5 s ago and 5 s ahead of the reads' now.
    ttl: fc.integer({ min: -5_000, max: 5_000 }),
  }),
  fc.record({
    kind: fc.constant('delete' as const),
    key: fc.nat(KEYS - 1),
    wall: fc.integer({ min: NOW - 10_000, max: NOW }),
  }),
  fc.record({ kind: fc.constant('remove' as const), key: fc.nat(KEYS - 1) }),
  fc.record({ kind: fc.constant('purge' as const), grace: fc.integer({ min: 0, max: 10_000 }) }),
  fc.constant({ kind: 'reopen' as const }),
);

const keyOf = (i: number): Buffer => Buffer.from(`prop:${i}`);

describe('LmdbEngine against MemoryEngine (property)', () => {
  it('any sequence of puts, deletes, expiries, purges and reopenings reads the same', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 40 }), async (steps) => {
        const path = freshDir();
        const clock = (): HybridLogicalClock => new HybridLogicalClock(() => NOW);
        const memory = new Store(new MemoryEngine(), clock(), () => NOW);
        let durable = new Store(LmdbEngine.open({ path }), clock(), () => NOW);
        try {
          let logical = 0;
          const ts = (wall: number): number => wall * 2 ** LOGICAL_BITS + (logical++ % 1000);
          for (const s of steps) {
            if (s.kind === 'reopen') {
              await durable.close();
              durable = new Store(LmdbEngine.open({ path }), clock(), () => NOW);
              continue;
            }
            const record =
              s.kind === 'put'
                ? rec(s.value, ts(s.wall), s.ttl === 0 ? 0 : NOW + s.ttl)
                : s.kind === 'delete'
                  ? rec(null, ts(s.wall))
                  : undefined;
            for (const store of [memory, durable]) {
              if (s.kind === 'purge') store.purge(s.grace);
              else if (s.kind === 'remove') await store.remove(keyOf(s.key));
              else await store.apply(keyOf(s.key), record as StoredRecord);
            }
          }
          for (let i = 0; i < KEYS; i++) {
            expect(durable.read(keyOf(i))).toEqual(memory.read(keyOf(i)));
            expect(durable.value(keyOf(i))).toEqual(memory.value(keyOf(i)));
          }
          expect([...durable.versions()]).toEqual([...memory.versions()]);
          expect([durable.size, durable.tombstones]).toEqual([memory.size, memory.tombstones]);
        } finally {
          await durable.close();
          rmSync(path, { recursive: true, force: true });
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe('LmdbEngine tombstones', () => {
  it('keep a deletion across restarts until its grace period ends, counted from the delete', async () => {
    const path = freshDir();
    const deletedAt = 2_000_000_000_000;
    const grace = 60_000;
    let now = deletedAt + 1000;
    const open = (): Store =>
      new Store(LmdbEngine.open({ path }), new HybridLogicalClock(() => now), () => now);
    let store = open();
    const key = Buffer.from('gone');
    await store.apply(key, rec('old', (deletedAt - 5000) * 2 ** LOGICAL_BITS));
    await store.apply(key, rec(null, deletedAt * 2 ** LOGICAL_BITS));
    await store.close();

    // Restarted within the grace period: the tombstone is there, and still beats the
    // older write arriving late.
    now = deletedAt + grace - 1000;
    store = open();
    expect(store.purge(grace)).toBe(0);
    expect(store.read(key)?.value).toBeNull();
    await store.apply(key, rec('old', (deletedAt - 5000) * 2 ** LOGICAL_BITS));
    expect(store.read(key)?.value).toBeNull();
    await store.close();

    // Restarted after it: the first purge forgets it, on disk too.
    now = deletedAt + grace + 1;
    store = open();
    expect(store.tombstones).toBe(1);
    expect(store.purge(grace)).toBe(1);
    await store.close();
    store = open();
    try {
      expect([store.size, store.tombstones]).toEqual([0, 0]);
    } finally {
      await store.close();
    }
  });
});

describe('LmdbEngine sync progress journal', () => {
  it('keeps the unsynced ranges, with their previous owners, across a reopen', async () => {
    const path = freshDir();
    let engine = LmdbEngine.open({ path });
    expect(engine.syncProgressJournal().load()).toEqual([]);
    const ranges = [
      { start: 0, end: 2 ** 40, previous: ['127.0.0.1:5002', '127.0.0.1:5003'] },
      { start: 2 ** 47, end: 2 ** 48, previous: [] },
    ];
    engine.syncProgressJournal().save(ranges);
    await engine.close();
    engine = LmdbEngine.open({ path });
    try {
      expect(engine.syncProgressJournal().load()).toEqual(ranges);
      engine.syncProgressJournal().save([]);
      await engine.flush();
      expect(engine.syncProgressJournal().load()).toEqual([]);
    } finally {
      await engine.close();
    }
  });
});

describe('LmdbEngine hint journal', () => {
  it('keeps the hints of a HintStore across a reopen, and forgets discarded ones', async () => {
    const path = freshDir();
    let engine = LmdbEngine.open({ path });
    const hints = new HintStore({ journal: engine.hintJournal() });
    const long = Buffer.alloc(3000, 'k');
    expect(hints.add('127.0.0.1:5002', Buffer.from('a'), rec('1', 5))).toBe(true);
    expect(hints.add('127.0.0.1:5002', Buffer.from('a'), rec('2', 6))).toBe(true);
    expect(hints.add('127.0.0.1:5002', Buffer.from('gone'), rec(null, 7))).toBe(true);
    expect(hints.add('127.0.0.1:5003', long, rec('x', 8))).toBe(true);
    expect(hints.add('127.0.0.1:5004', Buffer.from('b'), rec('y', 9))).toBe(true);
    hints.discard('127.0.0.1:5004');
    await engine.close();

    engine = LmdbEngine.open({ path });
    try {
      const journal = engine.hintJournal();
      const saved = journal
        .load()
        .map((h) => [h.replica, h.key.toString(), h.record])
        .sort((x, y) => String(x[1]).localeCompare(String(y[1])));
      expect(saved).toEqual([
        ['127.0.0.1:5002', 'a', rec('2', 6)],
        ['127.0.0.1:5002', 'gone', rec(null, 7)],
        ['127.0.0.1:5003', long.toString(), rec('x', 8)],
      ]);
      const reloaded = new HintStore({ journal });
      expect(reloaded.pending).toBe(3);
      expect(reloaded.replicas().sort()).toEqual(['127.0.0.1:5002', '127.0.0.1:5003']);
      // Records and hints live apart: the records database holds no hint.
      expect(engine.size).toBe(0);
    } finally {
      await engine.close();
    }
  });

  it('drops, on disk too, saved hints past lowered bounds', async () => {
    const path = freshDir();
    let engine = LmdbEngine.open({ path });
    const hints = new HintStore({ journal: engine.hintJournal() });
    for (let i = 0; i < 5; i++) hints.add('n:1', Buffer.from(`k${i}`), rec('v', i + 1));
    await engine.close();
    engine = LmdbEngine.open({ path });
    expect(new HintStore({ journal: engine.hintJournal(), maxHints: 2 }).pending).toBe(2);
    await engine.close();
    engine = LmdbEngine.open({ path });
    try {
      expect(engine.hintJournal().load()).toHaveLength(2);
    } finally {
      await engine.close();
    }
  });
});

describe('REPLICATE_BATCH on the LMDB engine', () => {
  it('stores the records of a batch with one sync of the log, then in one transaction', async () => {
    const path = freshDir();
    const engine = LmdbEngine.open({ path });
    const onPool = jest.spyOn(fs, 'fdatasync');
    const inline = jest.spyOn(fs, 'fdatasyncSync');
    const syncs = (): number => onPool.mock.calls.length + inline.mock.calls.length;
    // A second handle on the same environment, to read how many transactions committed.
    const observer = open({ path, maxDbs: 2, readOnly: true });
    const committed = (): number => (observer.getStats() as { lastTxnId: number }).lastTxnId;
    try {
      const store = new Store(engine, new HybridLogicalClock());
      const entries = Array.from({ length: 50 }, (_, i) => ({
        key: Buffer.from(`k${i}`),
        record: rec(i % 5 === 0 ? null : `v${i}`, 2 ** LOGICAL_BITS * (i + 1)),
      }));
      const args = overTheWire(encodeCommand(replicateBatchArgs(entries)));
      // Opening a new database saves its totals: that commit is not the batch's.
      await (engine as unknown as { root: { committed: Promise<void> } }).root.committed;
      const before = committed();
      const reply = (await serveAsReplica(store, args)) as number[][];
      expect(reply.map((answer) => answer[0])).toEqual(entries.map(() => 1));
      // Answered at once; what the reply waits for (the server's durability gate) is one sync.
      await store.durable();
      expect(syncs()).toBe(1);
      expect([engine.size, engine.tombstones]).toEqual([50, 10]);
      await engine.close();
      expect(committed() - before).toBe(1);
    } finally {
      jest.restoreAllMocks();
      await observer.close();
      await engine.close();
    }
  });
});

/** The arguments a server parses from `bytes`. */
function overTheWire(bytes: Buffer): Buffer[] {
  let args: Buffer[] = [];
  new RespParser('request').feed(bytes, (m) => (args = m as Buffer[]));
  return args;
}
