import {
  closeSync,
  fdatasyncSync,
  fsyncSync,
  openSync,
  promises as fsp,
  renameSync,
  rmSync,
  unlinkSync,
  writeSync,
  writevSync,
} from 'node:fs';
import { join } from 'node:path';
import { segmentName } from './write-ahead-log-format';

/** The next segment's file while it is being zero-filled (not a segment: never read). */
const SPARE = 'spare.wal.tmp';
const ZERO_CHUNK = 1024 * 1024;

/**
 * The numbered segment files of a write-ahead log in one directory: the one being written
 * (`fd`), the older ones kept until the database's own durable state covers them, and the
 * spare that becomes the next. Each segment is zero-filled and synced before use, so frames
 * are written over blocks the file already has: an `fdatasync` then need not also commit
 * the file's growth to the file system's journal (about a third less time here).
 */
export class LogSegments {
  /** The file of the segment being written. */
  fd: number;
  private current: number;
  /** Segments written before the current one, not yet retired. */
  private older: number[];
  /** The spare file is zero-filled and synced, ready to be the next segment. */
  private spareReady = false;
  /** Its filling, while it runs. */
  private preparing: Promise<void> | undefined;
  private closed = false;

  /** Begins segment after the last of `segments` (those a previous run left, read already). */
  constructor(
    private readonly dir: string,
    segments: number[],
    private readonly maxSegmentBytes: number,
  ) {
    this.older = segments;
    this.current = (segments[segments.length - 1] ?? 0) + 1;
    // A spare left by an earlier run may be half written: begun again.
    const first = join(dir, SPARE);
    rmSync(first, { force: true });
    const fd = openSync(first, 'wx');
    try {
      preallocate(fd, maxSegmentBytes);
    } finally {
      closeSync(fd);
    }
    this.fd = this.create(this.current, first);
    this.prepareSpare();
  }

  /** The segments before the one being written, not yet retired. */
  get retained(): number[] {
    return [...this.older];
  }

  /**
   * Begins the next segment: frames already written stay in the old file, closed once
   * `written` (the sync under way of its last frame, if any) settles.
   */
  begin(written: Promise<void> | undefined): void {
    const spare = this.spareReady ? join(this.dir, SPARE) : undefined;
    // Taken whatever comes of it: a failure may leave it renamed.
    this.spareReady = false;
    // The next file first: if it cannot be had (no inode left, too many open files),
    // this throws with nothing else changed, and frames go on into the current segment.
    const fd = this.create(this.current + 1, spare);
    this.older.push(this.current);
    const previous = this.fd;
    this.current += 1;
    this.fd = fd;
    this.prepareSpare();
    if (written) void written.catch(() => undefined).then(() => closeSync(previous));
    else closeSync(previous);
  }

  /** Deletes `segments` (from {@link retained}). */
  retire(segments: readonly number[]): void {
    const gone = new Set(segments);
    for (const segment of segments) {
      try {
        unlinkSync(join(this.dir, segmentName(segment)));
      } catch (err) {
        // Retired already, by an earlier call covering it too.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    this.older = this.older.filter((s) => !gone.has(s));
  }

  /** Closes the current file and drops the spare; with `all`, deletes every segment too. */
  async close(all: boolean): Promise<void> {
    closeSync(this.fd);
    this.closed = true;
    await this.preparing;
    rmSync(join(this.dir, SPARE), { force: true });
    if (all) this.retire([...this.older, this.current]);
  }

  /**
   * Opens segment `segment` for writing: the spare file at `spare` (already zero-filled and
   * synced) renamed, or a new empty file if there is none ready.
   */
  private create(segment: number, spare: string | undefined): number {
    const path = join(this.dir, segmentName(segment));
    if (spare) renameSync(spare, path);
    // Without a spare, a file an attempt that failed left under this name holds no frame.
    const fd = openSync(path, spare ? 'r+' : 'w');
    try {
      // The file's name must survive a crash as well as its entries.
      const dirFd = openSync(this.dir, 'r');
      try {
        fsyncSync(dirFd);
      } finally {
        closeSync(dirFd);
      }
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    return fd;
  }

  /**
   * Fills the next segment's file with zeros and syncs it, off the event loop, while the
   * current one fills. If the log fills a segment before the spare is ready, the next one
   * is an empty file.
   */
  private prepareSpare(): void {
    if (this.preparing || this.spareReady || this.closed) return;
    const path = join(this.dir, SPARE);
    const size = this.maxSegmentBytes;
    this.preparing = (async () => {
      const file = await fsp.open(path, 'wx');
      try {
        const zeros = Buffer.alloc(Math.min(size, ZERO_CHUNK));
        for (let at = 0; at < size; at += zeros.length)
          await file.write(zeros, 0, Math.min(zeros.length, size - at), at);
        await file.datasync();
      } finally {
        await file.close();
      }
      if (this.closed) rmSync(path, { force: true });
      else this.spareReady = true;
    })()
      // Without a spare, the next segment is an empty file: slower syncs, nothing lost.
      .catch(() => rmSync(path, { force: true }))
      .finally(() => {
        this.preparing = undefined;
      });
  }
}

/** Fills the first `size` bytes of `fd` with zeros and syncs them. */
function preallocate(fd: number, size: number): void {
  const zeros = Buffer.alloc(Math.min(size, ZERO_CHUNK));
  for (let at = 0; at < size; at += zeros.length)
    writeSync(fd, zeros, 0, Math.min(zeros.length, size - at), at);
  fdatasyncSync(fd);
}

/** Writes every byte of `buffers` at `position` (a short write is continued). */
export function writeAll(fd: number, buffers: Buffer[], position: number): void {
  let rest = buffers;
  for (;;) {
    let written = writevSync(fd, rest, position);
    position += written;
    let i = 0;
    while (i < rest.length && written >= (rest[i] as Buffer).length)
      written -= (rest[i++] as Buffer).length;
    if (i === rest.length) return;
    rest = [(rest[i] as Buffer).subarray(written), ...rest.slice(i + 1)];
  }
}
