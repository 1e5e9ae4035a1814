import {
  closeSync,
  fdatasync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  unlinkSync,
  writevSync,
} from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { NodeError } from './errors';

/** Bytes before a frame's entries: their length (u32) and their CRC-32 (u32). */
const FRAME_HEADER = 8;
/** Bytes before an entry's key: op, key length (u16), value length (u32). */
const ENTRY_HEADER = 7;
const PUT = 1;
const REMOVE = 2;
/** Values up to this size are copied into the frame; larger ones are written from where they are. */
const COPY_MAX = 4096;
/** A segment past this size is closed and a new one begun at the next sync. */
export const DEFAULT_SEGMENT_BYTES = 4 * 1024 * 1024;
const SEGMENT_NAME = /^(\d{12})\.wal$/;

/** One write found in the log: a put of `value` under `key`, or a removal (`value` undefined). */
export interface LogEntry {
  readonly key: Buffer;
  readonly value: Buffer | undefined;
}

/** What reading the log on open found. */
export interface LogRecovery {
  /** Every whole entry, oldest first. */
  readonly entries: LogEntry[];
  /** Bytes past the last whole entry of a segment (a write cut short by a crash), summed. */
  readonly tornBytes: number;
}

/** The log failed to write or sync: what it acknowledged is safe, nothing after it is. */
export class WriteAheadLogError extends NodeError {
  constructor(cause: Error) {
    super(
      `the write-ahead log failed (${cause.message}); writes are refused until the node restarts`,
    );
    this.name = 'WriteAheadLogError';
  }
}

/** The writes of one frame: their bytes (in pieces) and the promise they share. */
class Frame {
  readonly parts: Buffer[] = [];
  readonly done: Promise<void>;
  resolve!: () => void;
  reject!: (err: Error) => void;
  constructor() {
    this.done = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // Nobody may be waiting (a write whose caller went away): no unhandled rejection.
    this.done.catch(() => undefined);
  }
}

/**
 * An append-only log of record writes in front of a database that syncs in its own time:
 * a write is durable once its entry is synced here, one write and one `fdatasync` for all
 * the writes of an event-loop turn (and all that arrive while the previous sync runs), the
 * way Redis's `appendfsync always` syncs its append-only file.
 *
 * Each sync writes one frame: its length and CRC-32, then its entries. A frame a crash cut
 * short, or one damaged, is recognised and dropped on open, with everything after it; none
 * of its writes had been acknowledged.
 *
 * The log lives in numbered segment files. The database's owner {@link retire}s the
 * segments its own durable state already covers; until then they are replayed on open, so
 * a replay must be idempotent: each entry sets its key outright, and entries replay in the
 * order they were written, which is the order the database applied them.
 *
 * A failed write or sync fails every write waiting on it and every one after (as
 * PostgreSQL does after a failed fsync, a retry cannot tell what reached the disk).
 */
export class WriteAheadLog {
  private fd: number;
  private segment: number;
  private segmentBytes = 0;
  /** The frame being gathered (written at the next sync), if anything was appended. */
  private next: Frame | undefined;
  /** Where small entries are copied: `staged` bytes from `stagedFrom` belong to `next`. */
  private staging = Buffer.allocUnsafe(64 * 1024);
  private stagedFrom = 0;
  private staged = 0;
  private syncing = false;
  /** The frame being synced. */
  private inFlight: Frame | undefined;
  private scheduled = false;
  private failure: WriteAheadLogError | undefined;
  /** Segments written before the current one, not yet retired. */
  private older: number[];

  private constructor(
    private readonly dir: string,
    segments: number[],
    private readonly maxSegmentBytes: number,
  ) {
    this.older = segments;
    this.segment = (segments[segments.length - 1] ?? 0) + 1;
    this.fd = this.create(this.segment);
  }

  /**
   * Opens the log in `dir` (created if missing): reads what it holds, then begins a new
   * segment. The segments read stay until {@link retire}d.
   */
  static open(
    dir: string,
    maxSegmentBytes = DEFAULT_SEGMENT_BYTES,
  ): { log: WriteAheadLog; recovery: LogRecovery } {
    mkdirSync(dir, { recursive: true });
    const segments = readdirSync(dir)
      .map((name) => SEGMENT_NAME.exec(name)?.[1])
      .filter((n): n is string => n !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    const entries: LogEntry[] = [];
    let tornBytes = 0;
    for (const segment of segments)
      tornBytes += readSegment(readFileSync(join(dir, segmentName(segment))), entries);
    return {
      log: new WriteAheadLog(dir, segments, maxSegmentBytes),
      recovery: { entries, tornBytes },
    };
  }

  /** Bytes in the segment being written, synced or queued. */
  get bytes(): number {
    return this.segmentBytes;
  }

  /** The size past which {@link retirable} begins a new segment. */
  get segmentLimit(): number {
    return this.maxSegmentBytes;
  }

  /**
   * Appends a put of `value` under `key` (or its removal) and resolves once it is synced.
   * The writes of one sync share the promise returned. A value above a few KB is written
   * from the buffer given, not copied: it must not change meanwhile.
   * @throws WriteAheadLogError (rejects) once the log has failed
   */
  append(key: Buffer, value: Buffer | undefined): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const frame = (this.next ??= new Frame());
    const valueBytes = value?.length ?? 0;
    const copied = valueBytes <= COPY_MAX ? valueBytes : 0;
    this.reserve(ENTRY_HEADER + key.length + copied);
    const at = this.staged;
    const staging = this.staging;
    staging[at] = value === undefined ? REMOVE : PUT;
    staging.writeUInt16LE(key.length, at + 1);
    staging.writeUInt32LE(valueBytes, at + 3);
    key.copy(staging, at + ENTRY_HEADER);
    this.staged = at + ENTRY_HEADER + key.length;
    if (value !== undefined && copied === valueBytes) {
      value.copy(staging, this.staged);
      this.staged += copied;
    } else if (value !== undefined) {
      this.cut();
      frame.parts.push(value);
    }
    this.segmentBytes += ENTRY_HEADER + key.length + valueBytes;
    this.schedule();
    return frame.done;
  }

  /**
   * Segments that may be retired once the database has made durable every write issued so
   * far: all but the one being written, which is closed first if it has grown past its
   * bound. Pass them to {@link retire} then.
   */
  retirable(): number[] {
    if (this.segmentBytes >= this.maxSegmentBytes && !this.failure) this.startSegment();
    return [...this.older];
  }

  /** Deletes `segments` (from {@link retirable}): the database's durable state covers them. */
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

  /**
   * Waits for the writes appended so far to be synced, then closes the file. With `empty`
   * (the database made everything durable), deletes every segment: nothing is replayed.
   */
  async close(empty: boolean): Promise<void> {
    while (this.syncing || this.next) await this.synced();
    closeSync(this.fd);
    if (empty && !this.failure) this.retire([...this.older, this.segment]);
  }

  /** Resolves once what is appended so far is synced (or the log failed). */
  private async synced(): Promise<void> {
    const waiting = this.next ?? (this.syncing ? this.inFlight : undefined);
    await waiting?.done.catch(() => undefined);
  }

  /** Makes room for `bytes` more in the staging buffer, keeping what is staged. */
  private reserve(bytes: number): void {
    if (this.staged + bytes <= this.staging.length) return;
    const kept = this.staged - this.stagedFrom;
    const grown = Buffer.allocUnsafe(Math.max(this.staging.length * 2, kept + bytes));
    // What is staged but not yet a part moves to the new buffer; parts cut already keep
    // pointing into the old one.
    this.staging.copy(grown, 0, this.stagedFrom, this.staged);
    this.staging = grown;
    this.stagedFrom = 0;
    this.staged = kept;
  }

  /** Ends the stretch of staged bytes as a part of the next frame. */
  private cut(): void {
    if (this.staged > this.stagedFrom && this.next)
      this.next.parts.push(this.staging.subarray(this.stagedFrom, this.staged));
    this.stagedFrom = this.staged;
  }

  /** Syncs the next frame at the end of this turn, or after the sync under way. */
  private schedule(): void {
    if (this.scheduled || this.syncing) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.sync();
    });
  }

  private sync(): void {
    const frame = this.next;
    if (this.syncing || !frame) return;
    this.cut();
    this.next = undefined;
    this.syncing = true;
    this.inFlight = frame;
    const done = (err: Error | null): void => {
      this.syncing = false;
      this.inFlight = undefined;
      if (err) this.failure ??= new WriteAheadLogError(err);
      if (this.failure) frame.reject(this.failure);
      else frame.resolve();
      if (this.failure) {
        this.next?.reject(this.failure);
        this.next = undefined;
      } else if (this.next) this.sync();
    };
    const header = Buffer.allocUnsafe(FRAME_HEADER);
    let length = 0;
    let crc = 0;
    for (const part of frame.parts) {
      length += part.length;
      crc = crc32(part, crc);
    }
    header.writeUInt32LE(length, 0);
    header.writeUInt32LE(crc, 4);
    this.segmentBytes += FRAME_HEADER;
    // The write only copies into the page cache: done here, it saves a trip to the thread
    // pool; the sync, which waits for the disk, goes there.
    try {
      writeAll(this.fd, [header, ...frame.parts]);
    } catch (err) {
      return void process.nextTick(done, err as Error);
    }
    // The staged bytes are in the file now: the buffer is free again.
    this.staged = this.stagedFrom = 0;
    fdatasync(this.fd, done);
  }

  private startSegment(): void {
    // Frames already written stay in the old file: the next ones go to the new segment.
    this.older.push(this.segment);
    const previous = this.fd;
    this.segment += 1;
    this.fd = this.create(this.segment);
    this.segmentBytes = 0;
    const inFlight = this.inFlight;
    // The previous segment's file closes once its sync ends.
    if (inFlight) void inFlight.done.catch(() => undefined).then(() => closeSync(previous));
    else closeSync(previous);
  }

  private create(segment: number): number {
    const fd = openSync(join(this.dir, segmentName(segment)), 'wx');
    // The new file's name must survive a crash as well as its entries.
    const dirFd = openSync(this.dir, 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
    return fd;
  }
}

/** Writes every byte of `buffers` at the file's end (a short write is continued). */
function writeAll(fd: number, buffers: Buffer[]): void {
  let rest = buffers;
  for (;;) {
    let written = writevSync(fd, rest);
    let i = 0;
    while (i < rest.length && written >= (rest[i] as Buffer).length)
      written -= (rest[i++] as Buffer).length;
    if (i === rest.length) return;
    rest = [(rest[i] as Buffer).subarray(written), ...rest.slice(i + 1)];
  }
}

function segmentName(segment: number): string {
  return `${String(segment).padStart(12, '0')}.wal`;
}

/**
 * Reads a segment's whole frames into `entries`; returns the bytes after the last whole
 * one (a frame cut short or damaged ends the segment: none of its writes, nor any after
 * it, was acknowledged before the crash unless the disk itself lost data).
 */
function readSegment(data: Buffer, entries: LogEntry[]): number {
  let at = 0;
  while (at + FRAME_HEADER <= data.length) {
    const end = at + FRAME_HEADER + data.readUInt32LE(at);
    if (end > data.length) break;
    const body = data.subarray(at + FRAME_HEADER, end);
    if (crc32(body) !== data.readUInt32LE(at + 4)) break;
    const found = readEntries(body);
    if (!found) break;
    for (const entry of found) entries.push(entry);
    at = end;
  }
  return data.length - at;
}

/** The entries of a frame whose CRC matched; undefined if they do not fill it exactly. */
function readEntries(body: Buffer): LogEntry[] | undefined {
  const entries: LogEntry[] = [];
  let at = 0;
  while (at < body.length) {
    if (at + ENTRY_HEADER > body.length) return undefined;
    const op = body[at];
    const keyLength = body.readUInt16LE(at + 1);
    const valueLength = op === PUT ? body.readUInt32LE(at + 3) : 0;
    const keyAt = at + ENTRY_HEADER;
    const end = keyAt + keyLength + valueLength;
    if ((op !== PUT && op !== REMOVE) || end > body.length) return undefined;
    const key = body.subarray(keyAt, keyAt + keyLength);
    entries.push({ key, value: op === PUT ? body.subarray(keyAt + keyLength, end) : undefined });
    at = end;
  }
  return entries;
}
