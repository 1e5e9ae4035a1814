import type { EngineEntry } from './engine';
import { isLive } from './record';

/** What SCAN walks: a node's `Store` (or, in tests, an engine). */
export interface ScanSource {
  entries(): Iterator<EngineEntry>;
}

/** Options of {@link ScanCursors}. */
export interface ScanCursorOptions {
  /** Most scans in progress; starting one more forgets the least recently used. @default 64 */
  readonly maxCursors?: number;
  /** A cursor unused this long is forgotten. @default 60000 */
  readonly idleMs?: number;
  readonly now?: () => number;
}

interface Cursor {
  readonly iterator: Iterator<EngineEntry>;
  lastUsed: number;
}

/**
 * `SCAN cursor [MATCH pattern] [COUNT n]` over a node's own data. A cursor is a live
 * iterator over the store kept between calls, so, as with Redis, every key present for the
 * whole scan is returned exactly once, and each call costs O(COUNT) rather than a walk from
 * the start. Only live keys are returned (not tombstones or expired ones).
 */
export class ScanCursors {
  private readonly cursors = new Map<string, Cursor>();
  private next = 1;
  private readonly maxCursors: number;
  private readonly idleMs: number;
  private readonly now: () => number;

  constructor(
    private readonly source: ScanSource,
    options: ScanCursorOptions = {},
  ) {
    this.maxCursors = options.maxCursors ?? 64;
    this.idleMs = options.idleMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  /**
   * One SCAN step: up to `count` records examined (more may be skipped by `match`).
   * @returns the next cursor (`'0'` when the scan is complete) and the keys found
   * @throws `RangeError` for a cursor that is unknown or expired
   */
  step(cursor: string, count: number, match?: (key: Buffer) => boolean): [string, Buffer[]] {
    this.expire();
    let entry: Cursor | undefined;
    if (cursor === '0') {
      entry = { iterator: this.source.entries(), lastUsed: this.now() };
    } else {
      entry = this.cursors.get(cursor);
      if (!entry) throw new RangeError(`unknown or expired cursor ${cursor}: start again from 0`);
      this.cursors.delete(cursor);
    }
    const keys: Buffer[] = [];
    const now = Date.now();
    for (let examined = 0; examined < count; examined++) {
      const item = entry.iterator.next();
      if (item.done) return ['0', keys];
      const [key, record] = item.value;
      if (isLive(record, now) && (!match || match(key))) keys.push(key);
    }
    const id = String(this.next++);
    entry.lastUsed = this.now();
    this.cursors.set(id, entry);
    while (this.cursors.size > this.maxCursors) {
      const oldest = this.cursors.keys().next().value as string;
      this.cursors.delete(oldest);
    }
    return [id, keys];
  }

  private expire(): void {
    const cutoff = this.now() - this.idleMs;
    for (const [id, cursor] of this.cursors) {
      if (cursor.lastUsed >= cutoff) break;
      this.cursors.delete(id);
    }
  }
}

/**
 * A Redis glob (`*`, `?`, `[abc]`, `[^a-z]`, `\x` escapes) as a matcher over key bytes
 * read as latin1, so any byte string can be matched.
 */
export function globMatcher(pattern: string): (key: Buffer) => boolean {
  let source = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*') source += '[\\s\\S]*';
    else if (c === '?') source += '[\\s\\S]';
    else if (c === '\\' && i + 1 < pattern.length) source += escape(pattern[++i] as string);
    else if (c === '[') {
      const close = pattern.indexOf(']', i + 1);
      if (close < 0) {
        source += '\\[';
        continue;
      }
      let body = pattern.slice(i + 1, close);
      const negate = body.startsWith('^');
      if (negate) body = body.slice(1);
      source += `[${negate ? '^' : ''}${body.replace(/[\\\]]/g, '\\$&')}]`;
      i = close;
    } else source += escape(c);
  }
  const re = new RegExp(`${source}$`);
  return (key) => re.test(key.toString('latin1'));
}

function escape(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}
