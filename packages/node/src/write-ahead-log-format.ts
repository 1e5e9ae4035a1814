import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

/*
 * How the write-ahead log lies on disk, and reading it back. A segment is a file named by
 * its number (`000000000001.wal`, ...) holding frames, one per sync: a frame's length
 * (u32) and CRC-32 (u32), then its entries, each an op (put or remove), the key's length
 * (u16), the value's length (u32), the key and the value. A segment filled with zeros
 * ahead of use ends where the zeros begin.
 */

/** Bytes before a frame's entries: their length (u32) and their CRC-32 (u32). */
export const FRAME_HEADER = 8;
/** Bytes before an entry's key: op, key length (u16), value length (u32). */
export const ENTRY_HEADER = 7;
export const PUT = 1;
export const REMOVE = 2;
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

/** The segments in `dir`, oldest first, and every whole entry they hold. */
export function readLog(dir: string): { segments: number[]; recovery: LogRecovery } {
  const segments = readdirSync(dir)
    .map((name) => SEGMENT_NAME.exec(name)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
  const entries: LogEntry[] = [];
  let tornBytes = 0;
  for (const segment of segments)
    tornBytes += readSegment(readFileSync(join(dir, segmentName(segment))), entries);
  return { segments, recovery: { entries, tornBytes } };
}

export function segmentName(segment: number): string {
  return `${String(segment).padStart(12, '0')}.wal`;
}

/**
 * Reads a segment's whole frames into `entries`; returns the bytes written after the last
 * whole one (a frame cut short or damaged ends the segment: none of its writes, nor any after
 * it, was acknowledged before the crash unless the disk itself lost data).
 */
function readSegment(data: Buffer, entries: LogEntry[]): number {
  let at = 0;
  while (at + FRAME_HEADER <= data.length) {
    const length = data.readUInt32LE(at);
    // Zeros where a frame would begin: the end of what was written in a preallocated
    // segment (a frame always holds an entry), unless bytes other than zeros follow (a
    // frame whose first block a crash lost).
    if (length === 0) break;
    const end = at + FRAME_HEADER + length;
    if (end > data.length) break;
    const body = data.subarray(at + FRAME_HEADER, end);
    if (crc32(body) !== data.readUInt32LE(at + 4)) break;
    const found = readEntries(body);
    if (!found) break;
    for (const entry of found) entries.push(entry);
    at = end;
  }
  // What follows, up to the last byte that is not zero (a preallocated segment ends in
  // zeros never written), is what a crash cut short.
  let end = data.length;
  while (end > at && data[end - 1] === 0) end--;
  return end - at;
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
