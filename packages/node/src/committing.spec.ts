import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HybridLogicalClock } from './hlc';
import { LmdbEngine } from './lmdb-engine';
import { MemoryEngine } from './memory-engine';
import { PEER_COMMANDS, type PeerContext } from './peer-commands';
import type { StoredRecord } from './record';
import { Store } from './store';
import { SyncCommand } from './sync-protocol';

const NOW = 1_700_000_000_000;
const key = Buffer.from('k');
const record: StoredRecord = {
  value: Buffer.from('v'),
  ts: new HybridLogicalClock(() => NOW).now(),
  origin: 'n1',
  expiresAt: 0,
};

const dirs: string[] = [];
const engines: LmdbEngine[] = [];
afterAll(async () => {
  for (const engine of engines) await engine.close().catch(() => undefined);
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * A store on LMDB under `fsync`, whose next commit waits for `commit` or `fail` (under
 * `periodic`; under `always` the log's application to LMDB commits as it would).
 */
function heldCommit(fsync: 'periodic' | 'always' = 'periodic'): {
  engine: LmdbEngine;
  store: Store;
  commit: () => void;
  fail: () => void;
} {
  const dir = mkdtempSync(join(tmpdir(), 'kv-committing-'));
  dirs.push(dir);
  const engine = LmdbEngine.open({ path: dir, fsync });
  engines.push(engine);
  const db = (engine as unknown as { db: { put: (...a: unknown[]) => Promise<boolean> } }).db;
  let commit = (): void => undefined;
  let fail = (): void => undefined;
  const real = db.put.bind(db);
  if (fsync === 'periodic')
    jest.spyOn(db, 'put').mockImplementationOnce(
      (...args: unknown[]) =>
        new Promise<boolean>((resolve, reject) => {
          commit = () => resolve(real(...args));
          // As lmdb-js rejects a write whose transaction failed to commit (a failing disk).
          fail = () =>
            reject(
              Object.assign(new Error('Commit failed (see commitError for details)'), {
                commitError: Promise.reject(new Error('Input/output error')),
              }),
            );
        }),
    );
  const store = new Store(engine, new HybridLogicalClock(() => NOW), () => NOW);
  return { engine, store, commit: () => commit(), fail: () => fail() };
}

/** Whether `promise` has settled after the turns in between. */
async function settledYet(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let i = 0; i < 5; i++) await new Promise(setImmediate);
  return settled;
}

const versions = (store: Store): unknown =>
  PEER_COMMANDS[SyncCommand.versions]?.run(
    [Buffer.from(SyncCommand.versions), key, Buffer.from('other')],
    { store } as unknown as PeerContext,
    undefined as never,
  );

describe('an answer vouching for a version whose commit is under way (--fsync periodic)', () => {
  it('waits for that commit: the same write sent again is acknowledged only once it is committed', async () => {
    const { engine, store, commit } = heldCommit();
    const first = store.apply(key, record);
    expect(engine.committing(key)).toBeInstanceOf(Promise);
    // A retry of the write, or a hint delivered twice: the version is held, not yet committed.
    const again = store.apply(key, record);
    expect(again).toBeInstanceOf(Promise);
    expect(await settledYet(again as Promise<unknown>)).toBe(false);
    commit();
    await expect(first).resolves.toMatchObject({ applied: true });
    await expect(again).resolves.toEqual({
      applied: false,
      existed: true,
      ts: record.ts,
      origin: 'n1',
    });
    // Committed: answered at once from then on.
    expect(engine.committing(key)).toBeUndefined();
    expect(store.apply(key, record)).toEqual({
      applied: false,
      existed: true,
      ts: record.ts,
      origin: 'n1',
    });
  });

  it('fails with that commit, so nothing acknowledges a write the disk refused', async () => {
    const { engine, store, fail } = heldCommit();
    const first = store.apply(key, record);
    const again = store.apply(key, record);
    fail();
    const refused = /^UNAVAILABLE the database could not commit the write \(Input\/output error\)/;
    await expect(first).rejects.toThrow(refused);
    await expect(again).rejects.toThrow(refused);
    expect(engine.get(key)).toBeUndefined();
    // Sent once more, the write is taken anew (and committed this time).
    await expect(store.apply(key, record)).resolves.toMatchObject({ applied: true });
    expect(engine.get(key)).toEqual(record);
  });

  it('makes SYNC_VERSIONS, on which a node handing records off drops its copies, wait too', async () => {
    const { store, commit } = heldCommit();
    expect(versions(store)).toEqual([null, null]);
    const written = store.apply(key, record);
    const answer = versions(store);
    expect(answer).toBeInstanceOf(Promise);
    expect(await settledYet(answer as Promise<unknown>)).toBe(false);
    commit();
    await written;
    await expect(answer).resolves.toEqual([[record.ts, 'n1'], null]);
    expect(versions(store)).toEqual([[record.ts, 'n1'], null]);
  });

  it('makes SYNC_VERSIONS fail when the commit fails, so the copy handed off is kept', async () => {
    const { store, fail } = heldCommit();
    const written = store.apply(key, record);
    const answer = versions(store);
    fail();
    await expect(written).rejects.toThrow(/could not commit/);
    await expect(answer).rejects.toThrow(/could not commit/);
    expect(versions(store)).toEqual([null, null]);
  });
});

describe('engines whose answers need no such wait', () => {
  it('under --fsync always, leaves it to the reply, which waits for the log', () => {
    const { engine, store } = heldCommit('always');
    expect(store.apply(key, record)).toMatchObject({ applied: true });
    expect(engine.committing(key)).toBeUndefined();
    expect(store.committing([key])).toBeUndefined();
    expect(engine.durable?.()).toBeInstanceOf(Promise);
  });

  it('in memory, answers at once', () => {
    const store = new Store(new MemoryEngine(), new HybridLogicalClock(() => NOW), () => NOW);
    expect(store.apply(key, record)).toMatchObject({ applied: true });
    expect(store.apply(key, record)).toMatchObject({ applied: false, ts: record.ts });
    expect(store.committing([key])).toBeUndefined();
  });
});
