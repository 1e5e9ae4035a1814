import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ring } from '@kv/ring';
import { StateFileError, StateWriteError } from './errors';
import type { MembershipState } from './membership';
import { STATE_FILE_NAME, StateStore } from './state-store';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kv-coordinator-state-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function state(epoch: number, ids: string[] = ['127.0.0.1:5001']): MembershipState {
  const ring = new Ring(
    ids.map((id, i) => ({ id, zone: `z${i % 2}`, weight: 1 + i / 2 })),
    { replicationFactor: 2, vnodesPerWeight: 16 },
  );
  return { epoch, ring: ring.toJSON() };
}

async function writeState(content: string): Promise<string> {
  const file = join(dir, STATE_FILE_NAME);
  await writeFile(file, content);
  return file;
}

function validFile(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    format: 'kv-coordinator-membership',
    version: 1,
    savedAt: '2024-01-01T00:00:00.000Z',
    ...state(7),
    ...overrides,
  });
}

describe('StateStore', () => {
  it('loads nothing when there is no state file (a clean start)', async () => {
    expect(await new StateStore(join(dir, 'not-yet')).load()).toBeUndefined();
    expect(await new StateStore(dir).load()).toBeUndefined();
  });

  it('saves and loads the epoch and ring, creating the directory', async () => {
    const store = new StateStore(join(dir, 'a', 'b'));
    const saved = state(12, ['127.0.0.1:5003', '127.0.0.1:5001', '127.0.0.1:5002']);
    await store.save(saved);
    const loaded = await new StateStore(join(dir, 'a', 'b')).load();
    expect(loaded).toEqual(saved);
    expect(Ring.fromJSON(loaded?.ring).equals(Ring.fromJSON(saved.ring))).toBe(true);
    expect(await readdir(store.dir)).toEqual([STATE_FILE_NAME]);
    const json = JSON.parse(await readFile(store.file, 'utf8')) as Record<string, unknown>;
    expect(json).toMatchObject({ format: 'kv-coordinator-membership', version: 1, epoch: 12 });
  });

  it('replaces the previous state and leaves no temporary file', async () => {
    const store = new StateStore(dir);
    await store.save(state(1));
    await store.save(state(2, ['127.0.0.1:5009']));
    expect(await store.load()).toEqual(state(2, ['127.0.0.1:5009']));
    expect(await readdir(dir)).toEqual([STATE_FILE_NAME]);
  });

  it('serves saves requested during a write with one write of the newest state', async () => {
    const store = new StateStore(dir);
    const writes = jest.spyOn(store as unknown as { write: () => Promise<void> }, 'write');
    const saves = Array.from({ length: 20 }, (_, i) => store.save(state(i + 1)));
    await Promise.all(saves);
    expect(writes).toHaveBeenCalledTimes(2);
    expect((await store.load())?.epoch).toBe(20);
    await store.save(state(21));
    expect((await store.load())?.epoch).toBe(21);
  });

  it('rejects with StateWriteError when the directory cannot be created, and retries later', async () => {
    const blocker = join(dir, 'blocker');
    await writeFile(blocker, 'a file where the data directory should be');
    const store = new StateStore(join(blocker, 'data'));
    const failed = store.save(state(1));
    await expect(failed).rejects.toThrow(StateWriteError);
    await expect(failed).rejects.toThrow(`cannot write coordinator state to ${store.file}`);
    await rm(blocker);
    await mkdir(blocker);
    await store.save(state(2));
    expect((await store.load())?.epoch).toBe(2);
  });

  describe('refuses a state file it cannot trust, naming it and the way out', () => {
    const cases: [string, string, string][] = [
      ['not JSON', '{"format": "kv-coordinator-membership", "epo', 'is not valid JSON'],
      ['empty', '', 'is not valid JSON'],
      ['not an object', '[1, 2]', 'is not a JSON object'],
      ['another format', validFile({ format: 'something-else' }), '"format" is "something-else"'],
      ['a newer version', validFile({ version: 2 }), '"version" is 2'],
      ['a negative epoch', validFile({ epoch: -1 }), '"epoch" is -1'],
      ['a fractional epoch', validFile({ epoch: 1.5 }), '"epoch" is 1.5'],
      ['no ring', validFile({ ring: undefined }), '"ring" is missing'],
      [
        'ring options missing',
        validFile({ ring: { members: [] } }),
        '"ring.vnodesPerWeight" is missing',
      ],
      [
        'a duplicate member',
        validFile({
          ring: {
            vnodesPerWeight: 16,
            replicationFactor: 2,
            members: [{ id: 'a:1' }, { id: 'a:1' }],
          },
        }),
        '"ring" is invalid',
      ],
      [
        'a bad weight',
        validFile({
          ring: { vnodesPerWeight: 16, replicationFactor: 2, members: [{ id: 'a:1', weight: 0 }] },
        }),
        '"ring" is invalid',
      ],
    ];

    it.each(cases)('%s', async (_name, content, problem) => {
      const file = await writeState(content);
      const load = new StateStore(dir).load();
      await expect(load).rejects.toThrow(StateFileError);
      await expect(load).rejects.toThrow(`cannot load coordinator state from ${file}: `);
      await expect(load).rejects.toThrow(problem);
      await expect(load).rejects.toThrow(`Move the file aside (mv ${file} ${file}.bad)`);
    });

    it('unreadable', async () => {
      await mkdir(join(dir, STATE_FILE_NAME));
      const load = new StateStore(dir).load();
      await expect(load).rejects.toThrow(StateFileError);
      await expect(load).rejects.toThrow('the file cannot be read (EISDIR)');
    });
  });
});
