import fs from 'node:fs';
import { mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import {
  GATHER_TURNS,
  INLINE_SYNC_BYTES,
  WriteAheadLog,
  WriteAheadLogError,
  type LogSync,
} from './write-ahead-log';
import { ENTRY_HEADER, FRAME_HEADER } from './write-ahead-log-format';

const dirs: string[] = [];
function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kv-wal-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
afterEach(() => jest.restoreAllMocks());

const b = (s: string): Buffer => Buffer.from(s);
const segments = (dir: string): string[] =>
  readdirSync(dir)
    .filter((name) => name.endsWith('.wal'))
    .sort();
const read = (entries: { key: Buffer; value: Buffer | undefined }[]): [string, string | null][] =>
  entries.map(({ key, value }) => [key.toString(), value === undefined ? null : value.toString()]);

describe('WriteAheadLog', () => {
  it('gives back every synced put and removal, in order, when opened again', async () => {
    const dir = freshDir();
    const { log, recovery } = WriteAheadLog.open(dir);
    expect(recovery).toEqual({ entries: [], tornBytes: 0 });
    await Promise.all([
      log.append(b('a'), b('1')),
      log.append(b('b'), b('')),
      log.append(b('a'), undefined),
      log.append(b('c'), Buffer.alloc(70_000, 7)),
    ]);
    await log.close(false);
    const again = WriteAheadLog.open(dir);
    expect(read(again.recovery.entries)).toEqual([
      ['a', '1'],
      ['b', ''],
      ['a', null],
      ['c', Buffer.alloc(70_000, 7).toString()],
    ]);
    expect(again.recovery.tornBytes).toBe(0);
    await again.log.close(false);
  });

  it('drops a frame a crash cut short, and whatever follows a damaged one, reporting the bytes', async () => {
    const dir = freshDir();
    const { log } = WriteAheadLog.open(dir);
    // Two syncs, two frames: 8 bytes of length and CRC, then 7 bytes of entry header.
    await log.append(b('kept'), b('value'));
    await log.append(b('cut'), b('short value'));
    await log.close(false);
    const [file] = segments(dir);
    const path = join(dir, file as string);
    // The segment was zero-filled ahead: a write cut short leaves zeros where its last
    // bytes should be.
    const first = 8 + 7 + 4 + 5;
    const second = 8 + 7 + 3 + 11;
    const written = fs.readFileSync(path);
    written.fill(0, first + second - 3, first + second);
    writeFileSync(path, written);
    let opened = WriteAheadLog.open(dir);
    expect(read(opened.recovery.entries)).toEqual([['kept', 'value']]);
    expect(opened.recovery.tornBytes).toBe(second - 3);
    await opened.log.close(false);

    // One flipped byte in the first frame's value: its CRC no longer matches, and the
    // second frame, whole as it is, is not read past the damage either.
    truncateSync(path, 0);
    const data = Buffer.concat([frame([['kept', 'value']]), frame([['next', 'one']])]);
    const flipped = 8 + 7 + 4 + 1;
    data.writeUInt8(data.readUInt8(flipped) ^ 0xff, flipped);
    writeFileSync(path, data);
    opened = WriteAheadLog.open(dir);
    expect(opened.recovery.entries).toEqual([]);
    expect(opened.recovery.tornBytes).toBe(data.length);
    await opened.log.close(false);
  });

  it('refuses a frame whose entries do not fill it exactly, even with a matching CRC', async () => {
    const dir = freshDir();
    const good = frame([['a', '1']]);
    // A frame of 3 bytes (too short for an entry header) with its own correct CRC.
    const body = Buffer.from([1, 0, 9]);
    const header = Buffer.alloc(8);
    header.writeUInt32LE(body.length, 0);
    header.writeUInt32LE(crc32(body), 4);
    writeFileSync(join(dir, '000000000001.wal'), Buffer.concat([good, header, body]));
    const { log, recovery } = WriteAheadLog.open(dir);
    expect(read(recovery.entries)).toEqual([['a', '1']]);
    expect(recovery.tornBytes).toBe(11);
    await log.close(false);
  });

  it('keeps every entry of a frame larger than its staging buffer, small and large values mixed', async () => {
    const dir = freshDir();
    const { log } = WriteAheadLog.open(dir);
    const big = Buffer.alloc(10_000, 9);
    const writes = Array.from({ length: 3000 }, (_, i) =>
      log.append(b(`key:${i}`), i % 500 === 0 ? big : b(`value ${i} `.repeat(5))),
    );
    // One turn: one frame, whose writes share one promise.
    expect(new Set(writes).size).toBe(1);
    await Promise.all(writes);
    await log.close(false);
    const again = WriteAheadLog.open(dir);
    expect(read(again.recovery.entries)).toEqual(
      Array.from({ length: 3000 }, (_, i) => [
        `key:${i}`,
        (i % 500 === 0 ? big : b(`value ${i} `.repeat(5))).toString(),
      ]),
    );
    await again.log.close(true);
  });

  it('syncs all the appends of one turn with one fdatasync, a small frame on the event loop and a large one on the thread pool', async () => {
    const dir = freshDir();
    const { log } = WriteAheadLog.open(dir);
    const onPool = jest.spyOn(fs, 'fdatasync');
    const inline = jest.spyOn(fs, 'fdatasyncSync');
    // 100 small entries: about 1 KB, synced where it is written.
    await Promise.all(Array.from({ length: 100 }, (_, i) => log.append(b(`k${i}`), b('v'))));
    expect([inline.mock.calls.length, onPool.mock.calls.length]).toEqual([1, 0]);
    // Past INLINE_SYNC_BYTES: one sync on the thread pool.
    const big = Buffer.alloc(INLINE_SYNC_BYTES / 8, 7);
    await Promise.all(Array.from({ length: 10 }, (_, i) => log.append(b(`big${i}`), big)));
    expect([inline.mock.calls.length, onPool.mock.calls.length]).toEqual([1, 1]);
    await log.close(false);
    expect(read(WriteAheadLog.open(dir).recovery.entries)).toHaveLength(110);
  });

  it('tells its observer of each sync that succeeded: the writes it made durable, its bytes, its time', async () => {
    const dir = freshDir();
    const { log } = WriteAheadLog.open(dir);
    const syncs: LogSync[] = [];
    log.onSynced = (sync) => syncs.push(sync);
    // The clock moves only inside the sync: 12.5 ms per fdatasync.
    let now = 1000;
    jest.spyOn(performance, 'now').mockImplementation(() => now);
    const sync = fs.fdatasyncSync;
    const slow = jest.spyOn(fs, 'fdatasyncSync').mockImplementation((fd) => {
      now += 12.5;
      sync(fd);
    });
    await Promise.all([log.append(b('k1'), b('one')), log.append(b('k22'), b('two'))]);
    await log.append(b('k1'), undefined);
    const entry = (key: string, value = ''): number => ENTRY_HEADER + key.length + value.length;
    expect(syncs).toEqual([
      {
        writes: 2,
        bytes: FRAME_HEADER + entry('k1', 'one') + entry('k22', 'two'),
        seconds: 0.0125,
      },
      { writes: 1, bytes: FRAME_HEADER + entry('k1'), seconds: 0.0125 },
    ]);
    // A frame synced on the thread pool is heard of too, its writes counted once.
    const big = Buffer.alloc(INLINE_SYNC_BYTES, 7);
    await Promise.all([log.append(b('big1'), big), log.append(b('big2'), big)]);
    expect(syncs[2]).toMatchObject({
      writes: 2,
      bytes: FRAME_HEADER + 2 * entry('big1', big.toString()),
    });
    // An observer that throws does not stop the log.
    log.onSynced = () => {
      throw new Error('observer failed');
    };
    await expect(log.append(b('k3'), b('three'))).resolves.toBeUndefined();
    log.onSynced = (sync) => syncs.push(sync);
    // A failed sync is not: the log has failed, and the node stops.
    slow.mockImplementation(() => {
      throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
    });
    await expect(log.append(b('lost'), b('x'))).rejects.toBeInstanceOf(WriteAheadLogError);
    expect(syncs).toHaveLength(3);
    await log.close(false);
  });

  it('waits for writers that keep coming turn after turn, up to GATHER_TURNS, then syncs them in one frame', async () => {
    const dir = freshDir();
    const { log } = WriteAheadLog.open(dir);
    const inline = jest.spyOn(fs, 'fdatasyncSync');
    const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
    // Two writers in the first turn, then one in each turn after, as clients answered one
    // after another send again: all in the frame the first began.
    const writes = [log.append(b('w0'), b('v')), log.append(b('w0b'), b('v'))];
    for (let turn = 1; turn <= GATHER_TURNS; turn++) {
      await nextTurn();
      expect(inline).not.toHaveBeenCalled();
      writes.push(log.append(b(`w${turn}`), b('v')));
    }
    await Promise.all(writes);
    expect(inline).toHaveBeenCalledTimes(1);

    // Writers that never stop coming do not hold a frame past its bound of turns.
    let synced = false;
    const first = log.append(b('x0'), b('v')).then(() => (synced = true));
    void log.append(b('x0b'), b('v'));
    let turns = 0;
    while (!synced) {
      await nextTurn();
      turns++;
      void log.append(b(`x${turns}`), b('v'));
    }
    await first;
    expect(turns).toBeLessThanOrEqual(GATHER_TURNS + 1);
    expect(inline).toHaveBeenCalledTimes(2);

    // A lone writer has no one to wait for: its frame is synced at the end of its turn.
    await log.synced();
    let loneSynced = false;
    const lone = log.append(b('lone'), b('v')).then(() => (loneSynced = true));
    await nextTurn();
    expect(loneSynced).toBe(true);
    await lone;
    await log.close(false);
    expect(read(WriteAheadLog.open(dir).recovery.entries).map(([key]) => key)).toEqual(
      expect.arrayContaining(['w0', 'w0b', `w${GATHER_TURNS}`, 'x0', 'lone']),
    );
  });

  it('fails the writes of a small frame whose sync on the event loop failed, and every write after it', async () => {
    const dir = freshDir();
    const { log } = WriteAheadLog.open(dir);
    await log.append(b('before'), b('1'));
    jest.spyOn(fs, 'fdatasyncSync').mockImplementation(() => {
      throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
    });
    const failed = log.append(b('during'), b('2'));
    await expect(failed).rejects.toBeInstanceOf(WriteAheadLogError);
    await expect(log.synced()).rejects.toBeInstanceOf(WriteAheadLogError);
    await expect(log.failed).resolves.toBeInstanceOf(WriteAheadLogError);
    jest.restoreAllMocks();
    await expect(log.append(b('after'), b('3'))).rejects.toBeInstanceOf(WriteAheadLogError);
    await log.close(true);
    expect(read(WriteAheadLog.open(dir).recovery.entries)[0]).toEqual(['before', '1']);
  });

  it('begins a new segment past its bound; retired segments are gone and not replayed', async () => {
    const dir = freshDir();
    const { log } = WriteAheadLog.open(dir, 64);
    await log.append(b('old'), Buffer.alloc(100, 1));
    expect(log.bytes).toBeGreaterThanOrEqual(log.segmentLimit);
    const retirable = log.retirable();
    expect(retirable).toEqual([1]);
    expect(log.bytes).toBe(0);
    await log.append(b('new'), b('2'));
    expect(segments(dir)).toEqual(['000000000001.wal', '000000000002.wal']);
    log.retire(retirable);
    expect(segments(dir)).toEqual(['000000000002.wal']);
    await log.close(false);
    const again = WriteAheadLog.open(dir);
    expect(read(again.recovery.entries)).toEqual([['new', '2']]);
    // The segments read on open are retired with the next ones.
    expect(again.log.retirable()).toEqual([2]);
    await again.log.close(true);
    expect(segments(dir)).toEqual([]);
  });

  it('goes on in its current segment when the next cannot be had, and begins it at the next try', async () => {
    const dir = freshDir();
    const { log } = WriteAheadLog.open(dir, 64);
    await log.append(b('old'), Buffer.alloc(100, 1));
    // Whether the spare is ready (renamed) or not (created): either fails, as with no inode
    // left.
    const refuse = (): never => {
      throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    };
    const rename = jest.spyOn(fs, 'renameSync').mockImplementationOnce(refuse);
    const open = jest.spyOn(fs, 'openSync').mockImplementationOnce(refuse);
    expect(log.retirable()).toEqual([]);
    expect(rename.mock.calls.length + open.mock.calls.length).toBeGreaterThan(0);
    jest.restoreAllMocks();
    // Nothing changed: the write after it goes into the same segment and is synced.
    await log.append(b('more'), b('2'));
    expect(segments(dir)).toEqual(['000000000001.wal']);
    expect(log.retirable()).toEqual([1]);
    await log.append(b('new'), b('3'));
    expect(segments(dir)).toEqual(['000000000001.wal', '000000000002.wal']);
    await log.close(false);
    const again = WriteAheadLog.open(dir);
    expect(read(again.recovery.entries).map(([k]) => k)).toEqual(['old', 'more', 'new']);
    await again.log.close(true);
  });

  it('fails the writes waiting on a failed sync on the thread pool and every write after it', async () => {
    const dir = freshDir();
    // Every frame synced on the thread pool.
    const { log } = WriteAheadLog.open(dir, undefined, 0);
    await log.append(b('before'), b('1'));
    jest
      .spyOn(fs, 'fdatasync')
      .mockImplementation((_fd: number, done: fs.NoParamCallback) =>
        done(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' })),
      );
    const failed = log.append(b('during'), b('2'));
    await expect(failed).rejects.toBeInstanceOf(WriteAheadLogError);
    await expect(failed).rejects.toThrow(
      'the write-ahead log failed (EIO: i/o error, fdatasync); it acknowledges nothing more until the node restarts',
    );
    jest.restoreAllMocks();
    await expect(log.append(b('after'), b('3'))).rejects.toBeInstanceOf(WriteAheadLogError);
    await log.close(true);
    // A failed log deletes nothing on close: what it holds is replayed.
    expect(read(WriteAheadLog.open(dir).recovery.entries)[0]).toEqual(['before', '1']);
  });
});

/** A frame as the log writes it, holding puts of `entries`. */
function frame(entries: [string, string][]): Buffer {
  const body = Buffer.concat(
    entries.map(([key, value]) => {
      const header = Buffer.alloc(7);
      header[0] = 1;
      header.writeUInt16LE(key.length, 1);
      header.writeUInt32LE(value.length, 3);
      return Buffer.concat([header, b(key), b(value)]);
    }),
  );
  const header = Buffer.alloc(8);
  header.writeUInt32LE(body.length, 0);
  header.writeUInt32LE(crc32(body), 4);
  return Buffer.concat([header, body]);
}
