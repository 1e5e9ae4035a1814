import { existsSync, fdatasync, fdatasyncSync, mkdirSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { ErrorCode, ReplyError } from '@kv/protocol';
import {
  ENTRY_HEADER,
  FRAME_HEADER,
  PUT,
  REMOVE,
  readLog,
  type LogRecovery,
} from './write-ahead-log-format';
import { LogSegments, writeAll } from './write-ahead-log-segments';

export type { LogEntry, LogRecovery } from './write-ahead-log-format';

/** Values up to this size are copied into the frame; larger ones are written from where they are. */
const COPY_MAX = 4096;
/** A segment past this size is closed and a new one begun at the next sync. */
export const DEFAULT_SEGMENT_BYTES = 4 * 1024 * 1024;
/** The staging buffer's size, and the most it keeps after a frame made it grow. */
const STAGING_BYTES = 64 * 1024;
const STAGING_KEPT = 1024 * 1024;
/**
 * Frames up to this size are synced on the event loop, larger ones on the thread pool (see
 * {@link WriteAheadLog}).
 */
export const INLINE_SYNC_BYTES = 8 * 1024;
/**
 * At most this many event-loop turns after the one that began it a frame waits for more
 * writers, while each turn brings some (see {@link WriteAheadLog}).
 */
export const GATHER_TURNS = 4;

/**
 * The log failed to write or sync: what it acknowledged is safe, nothing after it is. A
 * write refused for it is answered `-UNAVAILABLE` (the client or peer tries a replica).
 */
export class WriteAheadLogError extends ReplyError {
  /** What failed, without the reply's code. */
  readonly reason: string;
  constructor(cause: Error) {
    const reason = `the write-ahead log failed (${cause.message}); it acknowledges nothing more until the node restarts`;
    super(`${ErrorCode.UNAVAILABLE} ${reason}`);
    this.reason = reason;
    this.name = 'WriteAheadLogError';
  }
}

/** One sync of the log, as {@link WriteAheadLog.onSynced} hears of it. */
export interface LogSync {
  /** Writes it made durable. */
  readonly writes: number;
  /** Bytes it wrote, the frame's header included. */
  readonly bytes: number;
  /** From the frame's write to the end of its `fdatasync`. */
  readonly seconds: number;
}

/** The writes of one frame: their bytes (in pieces) and the promise they share. */
class Frame {
  readonly parts: Buffer[] = [];
  writes = 0;
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
 * way Redis's `appendfsync always` syncs its append-only file. While writes keep arriving
 * turn after turn, a frame waits a few turns for them ({@link GATHER_TURNS}): writers
 * answered one after another come back one after another, and one sync for all of them
 * costs less than one per straggler.
 *
 * A frame up to {@link INLINE_SYNC_BYTES} is synced on the event loop, as Redis syncs; a
 * larger one on the thread pool, while the loop takes the next requests into the frame
 * after it: with many writers that overlap pays, with few the hand-over costs more than
 * the sync. Measured in docs/benchmarks.md.
 *
 * Each sync writes one frame: its length and CRC-32, then its entries. A frame a crash cut
 * short, or one damaged, is recognised and dropped on open, with everything after it; none
 * of its writes had been acknowledged.
 *
 * The log lives in numbered segment files ({@link LogSegments}). The database's owner
 * {@link retire}s the segments its own durable state already covers; until then they are
 * replayed on open, so a replay must be idempotent: each entry sets its key outright, and
 * entries replay in the order they were written, which is the order the database applied
 * them.
 *
 * A failed write or sync fails every write waiting on it and every one after (as
 * PostgreSQL does after a failed fsync, a retry cannot tell what reached the disk).
 */
export class WriteAheadLog {
  private readonly segments: LogSegments;
  private segmentBytes = 0;
  /** Bytes of frames written to the current segment's file: where the next one goes. */
  private written = 0;
  /** The frame being gathered (written at the next sync), if anything was appended. */
  private next: Frame | undefined;
  /** Where small entries are copied: `staged` bytes from `stagedFrom` belong to `next`. */
  private staging = Buffer.allocUnsafe(STAGING_BYTES);
  private stagedFrom = 0;
  private staged = 0;
  /** The frame being synced. */
  private inFlight: Frame | undefined;
  private scheduled = false;
  /**
   * Appends so far; as many as the next frame's last look saw, and as its first write
   * found; and the turns it waited.
   */
  private appended = 0;
  private seen = 0;
  private began = 0;
  private turns = 0;
  private failedWith: WriteAheadLogError | undefined;
  /** What {@link synced} answers once the log has failed. */
  private failedSync: Promise<void> | undefined;
  /**
   * Hears of every sync that succeeded, in order (for the node's metrics). One that throws
   * is ignored: what it observes must not stop the log.
   */
  onSynced: ((sync: LogSync) => void) | undefined;

  private constructor(
    dir: string,
    segments: number[],
    private readonly maxSegmentBytes: number,
    private readonly inlineSyncBytes: number,
  ) {
    this.segments = new LogSegments(dir, segments, maxSegmentBytes);
  }

  /**
   * Opens the log in `dir` (created if missing): reads what it holds, then begins a new
   * segment. The segments read stay until {@link retire}d.
   */
  static open(
    dir: string,
    maxSegmentBytes = DEFAULT_SEGMENT_BYTES,
    inlineSyncBytes = INLINE_SYNC_BYTES,
  ): { log: WriteAheadLog; recovery: LogRecovery } {
    mkdirSync(dir, { recursive: true });
    const { segments, recovery } = readLog(dir);
    return {
      log: new WriteAheadLog(dir, segments, maxSegmentBytes, inlineSyncBytes),
      recovery,
    };
  }

  /**
   * What a log left in `dir` holds, without opening it for writing (undefined if there is
   * no log there): for an engine opened without a log on a directory that had one.
   */
  static recover(dir: string): LogRecovery | undefined {
    return existsSync(dir) ? readLog(dir).recovery : undefined;
  }

  /** Bytes in the segment being written, synced or queued. */
  get bytes(): number {
    return this.segmentBytes;
  }

  /** The size past which {@link retirable} begins a new segment. */
  get segmentLimit(): number {
    return this.maxSegmentBytes;
  }

  /** Why the log fails every write, once it has failed. */
  get failure(): WriteAheadLogError | undefined {
    return this.failedWith;
  }

  private onFailure: (err: WriteAheadLogError) => void = () => undefined;
  /** Resolves with the log's failure, if it ever fails (it never rejects). */
  readonly failed: Promise<WriteAheadLogError> = new Promise((resolve) => {
    this.onFailure = resolve;
  });

  /**
   * Resolves once everything appended so far is synced (undefined if it is); rejects if
   * the log failed first, and from then on: a write appended before the failure may be
   * answered later (after another replica's acknowledgement), and must never be.
   */
  synced(): Promise<void> | undefined {
    if (this.failure) return (this.failedSync ??= rejected(this.failure));
    return (this.next ?? this.inFlight)?.done;
  }

  /**
   * Appends a put of `value` under `key` (or its removal) and resolves once it is synced.
   * The writes of one sync share the promise returned. A value above a few KB is written
   * from the buffer given, not copied: it must not change meanwhile.
   * @throws WriteAheadLogError (rejects) once the log has failed
   */
  append(key: Buffer, value: Buffer | undefined): Promise<void> {
    if (this.failure) return (this.failedSync ??= rejected(this.failure));
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
    frame.writes++;
    this.schedule();
    return frame.done;
  }

  /**
   * Segments that may be retired once the database has made durable every write issued so
   * far: all but the one being written, which is closed first if it has grown past its
   * bound. Pass them to {@link retire} then.
   */
  retirable(): number[] {
    if (this.segmentBytes >= this.maxSegmentBytes && !this.failure) {
      try {
        this.segments.begin(this.inFlight?.done);
        this.segmentBytes = 0;
        this.written = 0;
      } catch {
        // No new segment could be had: the current one goes on past its bound, and the
        // next call tries again.
      }
    }
    return this.segments.retained;
  }

  /** Deletes `segments` (from {@link retirable}): the database's durable state covers them. */
  retire(segments: readonly number[]): void {
    this.segments.retire(segments);
  }

  /**
   * Waits for the writes appended so far to be synced, then closes the file. With `empty`
   * (the database made everything durable), deletes every segment: nothing is replayed.
   */
  async close(empty: boolean): Promise<void> {
    while (this.inFlight || this.next) await this.synced()?.catch(() => undefined);
    await this.segments.close(empty && !this.failure);
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

  /** Syncs the next frame once its writers are gathered, or after the sync under way. */
  private schedule(): void {
    this.appended++;
    if (this.scheduled || this.inFlight) return;
    this.scheduled = true;
    this.turns = 0;
    this.began = this.appended;
    setImmediate(this.gather);
  }

  /**
   * Runs once the turn that began the next frame has handled its input: while the last
   * turn brought more writes (writers answered a moment ago sending their next ones), the
   * frame waits one more turn, up to {@link GATHER_TURNS}, so one sync covers them all
   * rather than one now and another for the stragglers right after. A turn that brings
   * nothing costs one poll of the sockets; a frame whose first turn brought one write
   * alone (a lone writer) does not wait at all.
   */
  private readonly gather = (): void => {
    // A frame that began with one write alone has no other writer to wait for.
    const alone = this.turns === 0 && this.appended === this.began;
    if (!alone && this.appended !== this.seen && this.turns < GATHER_TURNS) {
      this.seen = this.appended;
      this.turns++;
      setImmediate(this.gather);
      return;
    }
    this.scheduled = false;
    this.sync();
  };

  private observe(sync: LogSync): void {
    try {
      this.onSynced?.(sync);
    } catch {
      // See onSynced.
    }
  }

  private sync(): void {
    const frame = this.next;
    if (this.inFlight || !frame) return;
    this.cut();
    this.next = undefined;
    this.inFlight = frame;
    let started = 0;
    let length = 0;
    const done = (err: Error | null): void => {
      const seconds = (performance.now() - started) / 1000;
      const sync: LogSync = { writes: frame.writes, bytes: FRAME_HEADER + length, seconds };
      this.inFlight = undefined;
      if (err && !this.failedWith) {
        this.failedWith = new WriteAheadLogError(err);
        this.onFailure(this.failedWith);
      }
      if (this.failure) frame.reject(this.failure);
      else frame.resolve();
      if (!err) this.observe(sync);
      if (this.failure) {
        this.next?.reject(this.failure);
        this.next = undefined;
      } else if (this.next) this.sync();
    };
    const header = Buffer.allocUnsafe(FRAME_HEADER);
    let crc = 0;
    for (const part of frame.parts) {
      length += part.length;
      crc = crc32(part, crc);
    }
    header.writeUInt32LE(length, 0);
    header.writeUInt32LE(crc, 4);
    this.segmentBytes += FRAME_HEADER;
    // The write only copies into the page cache: done here, it saves a trip to the thread
    // pool.
    started = performance.now();
    try {
      writeAll(this.segments.fd, [header, ...frame.parts], this.written);
    } catch (err) {
      return void process.nextTick(done, err as Error);
    }
    this.written += FRAME_HEADER + length;
    // The staged bytes are in the file now: the buffer is free again (and let go of, if a
    // burst made it large).
    this.staged = this.stagedFrom = 0;
    if (this.staging.length > STAGING_KEPT) this.staging = Buffer.allocUnsafe(STAGING_BYTES);
    const fd = this.segments.fd;
    if (length > this.inlineSyncBytes) return fdatasync(fd, done);
    // A small frame (few writers waiting, as with one request per client at a time) is
    // synced here, blocking the loop as Redis blocks in its AOF's fsync: the replies it
    // holds wait for it anyway, and handing it to the thread pool costs more than the sync
    // (a thread woken, then the loop, on machines whose cores are busy).
    let error: Error | null = null;
    try {
      fdatasyncSync(fd);
    } catch (err) {
      error = err as Error;
    }
    done(error);
  }
}

/** A promise rejected with `err` that is not an unhandled rejection if nobody waits on it. */
function rejected(err: Error): Promise<void> {
  const promise = Promise.reject(err);
  promise.catch(() => undefined);
  return promise;
}
