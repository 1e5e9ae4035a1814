import { TOKEN_SPACE, type TokenRange } from '@kv/ring';
import type { Database } from 'lmdb';
import type { EngineEntry } from './engine';
import { PendingWrites, pendingEntry, type Pending } from './lmdb-pending';
import { TOKEN_BYTES, decode, tokenBytes } from './lmdb-records';
import type { StoredRecord } from './record';

/** Records read per step of an iteration: no LMDB read transaction outlives a step. */
const PAGE = 512;

/**
 * Every record of `db` whose token lies in `range` (all if undefined), in token order,
 * with the writes still `pending` merged in: they replace what a page read for their
 * keys, and keys only they hold are yielded in their place. Read a page at a time, each
 * page in one short read transaction, so an iterator kept open (a SCAN cursor) pins no old
 * snapshot of the database. Ends early once `stopped()`.
 */
export function* pagesOf(
  db: Database<Buffer, Buffer>,
  pending: PendingWrites,
  range: TokenRange | undefined,
  stopped: () => boolean,
): IterableIterator<EngineEntry> {
  if (range && range.end <= range.start) return;
  let start = range ? tokenBytes(range.start) : undefined;
  const end = range && range.end < TOKEN_SPACE ? tokenBytes(range.end) : undefined;
  let exclusiveStart = false;
  for (;;) {
    if (stopped()) return;
    const page = [...db.getRange({ start, end, exclusiveStart, limit: PAGE })];
    const last = page.length === PAGE ? page[PAGE - 1]?.key : undefined;
    // The pending writes in the stretch of keys this page covers: up to its last key if
    // it is full, else to the end of the range.
    const waiting = pending.within(
      start?.toString('latin1'),
      exclusiveStart,
      (last ?? end)?.toString('latin1'),
      last !== undefined,
    );
    let next = 0;
    for (const { key: stored, value } of page) {
      let record: StoredRecord | undefined;
      if (waiting.length > next) {
        const k = stored.toString('latin1');
        for (; next < waiting.length && (waiting[next] as Pending).k < k; next++)
          yield* pendingEntry(waiting[next] as Pending);
        const mine = waiting[next];
        if (mine?.k === k) {
          next++;
          if (!mine.record) continue;
          record = mine.record;
        }
      }
      const decoded = decode(value, stored);
      yield [decoded.key, record ?? decoded.record, stored.readUIntBE(0, TOKEN_BYTES)];
    }
    for (; next < waiting.length; next++) yield* pendingEntry(waiting[next] as Pending);
    if (last === undefined) return;
    start = last;
    exclusiveStart = true;
  }
}
