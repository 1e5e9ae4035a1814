import type { Database } from 'lmdb';
import { isTombstone } from './lmdb-records';

/** Bytes charged per record on top of its key and value, like MemoryEngine's estimate. */
const RECORD_OVERHEAD = 64;
/** Where the meta database keeps the totals: records, tombstones, bytes (float64 each). */
export const TOTALS_KEY = Buffer.from('totals');
const TOTALS_BYTES = 24;

/** Record count, tombstone count and bytes, as the meta database keeps them. */
export interface Totals {
  records: number;
  tombstones: number;
  bytes: number;
}

/** Adds (`sign` 1) or takes back (-1) a stored record's share of `totals`. */
export function count(totals: Totals, stored: Buffer, value: Buffer, sign: 1 | -1): void {
  totals.records += sign;
  if (isTombstone(value)) totals.tombstones += sign;
  totals.bytes += sign * (stored.length + value.length + RECORD_OVERHEAD);
}

/** The totals as `meta` keeps them. */
export function totalsBytes(totals: Totals): Buffer {
  const bytes = Buffer.allocUnsafe(TOTALS_BYTES);
  bytes.writeDoubleLE(totals.records, 0);
  bytes.writeDoubleLE(totals.tombstones, 8);
  bytes.writeDoubleLE(totals.bytes, 16);
  return bytes;
}

/** The totals saved in `meta`, or undefined for a database written before they were kept. */
export function savedTotals(meta: Database<Buffer, Buffer>): Totals | undefined {
  const saved = meta.getBinary(TOTALS_KEY);
  if (saved?.length !== TOTALS_BYTES) return undefined;
  return {
    records: saved.readDoubleLE(0),
    tombstones: saved.readDoubleLE(8),
    bytes: saved.readDoubleLE(16),
  };
}

/**
 * Reads the totals saved in `meta` into `into`. They are written by every transaction that
 * changes them, so a restart reads them instead of walking every record (seconds for
 * millions); a database without them (written before they were kept) is counted once
 * instead, and false returned: they are to be saved.
 */
export function loadTotals(
  meta: Database<Buffer, Buffer>,
  db: Database<Buffer, Buffer>,
  into: Totals,
): boolean {
  const totals = savedTotals(meta);
  if (totals) {
    Object.assign(into, totals);
    return true;
  }
  for (const { key, value } of db.getRange({})) count(into, key, value, 1);
  return false;
}
