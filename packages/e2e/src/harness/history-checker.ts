/**
 * Checks what a concurrent workload read against what it wrote, key by key, from the
 * clients' point of view only: each operation is known by when it started and ended (on
 * one monotonic clock) and how it ended. Pure: no I/O, no clock.
 *
 * The rule for a read made after the workload (the "final" read): it must return what
 * some write could have left behind, where a write is ruled out once another
 * *acknowledged* write started after the first one could last have taken effect. So
 * concurrent writes are all allowed, and the store may order them either way (last writer
 * wins on versions made while they overlapped); a write that failed may or may not have
 * taken effect. A value no write produced is always wrong, and so is a deleted key coming
 * back with a value the delete overwrote.
 *
 * With one writer per key ({@link CheckOptions.singleWriter}) more can be said: writes of
 * a key are ordered, so a write can no longer take effect once it ended, whatever its
 * outcome (its writer gave up on it and moved on), and a read must see every write
 * acknowledged before it started ({@link checkMissedReads}).
 */

/** How a write ended, as its client saw it. */
export type WriteOutcome =
  /** Acknowledged: it took effect before `end`. */
  | 'ok'
  /**
   * An error reply (e.g. `-UNAVAILABLE 1 of 2 replicas acknowledged`): it may have taken
   * effect on some replicas, but not after `end` (its version was made before the reply).
   */
  | 'failed'
  /**
   * No reply (timeout, connection lost, a retrying client gave up): it may take effect
   * at any time after `start`, even after `end`.
   */
  | 'unknown';

/** A write to one key: a put of a value unique to it, or a delete. */
export interface WriteEvent {
  readonly kind: 'put' | 'delete';
  /** The value put, unique in the whole workload (e.g. `c3-op1234`); null for a delete. */
  readonly value: string | null;
  /** Who issued it, e.g. `c3-op1234`. */
  readonly op: string;
  readonly start: number;
  readonly end: number;
  readonly outcome: WriteOutcome;
  /** The node that coordinated it, when known. */
  readonly node?: string;
}

/** A read of one key made during the workload. */
export interface ReadEvent {
  readonly op: string;
  readonly start: number;
  readonly end: number;
  /** What it returned; null for not found. */
  readonly value: string | null;
  /** The node that answered, when known. */
  readonly node?: string;
}

/** Everything that happened to one key. */
export interface KeyHistory {
  readonly key: string;
  readonly writes: readonly WriteEvent[];
  readonly reads: readonly ReadEvent[];
}

/** Which rule a {@link Violation} broke. */
export const ViolationKind = {
  /** An acknowledged write is gone: the key holds an older value, or nothing. */
  lostWrite: 'lost-write',
  /** An acknowledged delete was undone: the key holds a value again. */
  resurrected: 'resurrected',
  /** A value no write of this key produced. */
  phantom: 'phantom',
  /** A read returned a value before the write of it started. */
  earlyRead: 'early-read',
  /** A read returned an older value, or nothing, though a newer write was acknowledged before it started. */
  missedRead: 'missed-read',
} as const;
export type ViolationKind = (typeof ViolationKind)[keyof typeof ViolationKind];

/** A broken rule: which key, which rule, and a message with the key's whole history. */
export interface Violation {
  readonly key: string;
  readonly kind: ViolationKind;
  readonly message: string;
  /** The read that broke it, for rules about reads made during the workload. */
  readonly read?: ReadEvent;
}

/** Options of the checks. */
export interface CheckOptions {
  /**
   * Every key has a single writer that issues its writes one at a time, so a write can no
   * longer take effect once it ended, even without a reply: its writer gave up on it, and
   * a newer write of the key must win over it. Without this, a write with no reply may
   * take effect at any later time.
   * @default false
   */
  readonly singleWriter?: boolean;
}

/** The latest time a write can take effect. */
function latestEffect(write: WriteEvent, options: CheckOptions): number {
  return write.outcome === 'unknown' && options.singleWriter !== true ? Infinity : write.end;
}

/** The acknowledged write that rules `write` out, if there is one. */
function overwrittenBy(
  write: WriteEvent,
  writes: readonly WriteEvent[],
  options: CheckOptions,
): WriteEvent | undefined {
  const effect = latestEffect(write, options);
  return writes.find((other) => other.outcome === 'ok' && other.start > effect);
}

/**
 * The values a read made after every write of `writes` ended may return (null: not
 * found). Before any acknowledged write, the key did not exist, so null is allowed until
 * one is.
 */
export function allowedFinalValues(
  writes: readonly WriteEvent[],
  options: CheckOptions = {},
): Set<string | null> {
  const allowed = new Set<string | null>();
  if (!writes.some((w) => w.outcome === 'ok')) allowed.add(null);
  for (const write of writes) {
    if (overwrittenBy(write, writes, options)) continue;
    allowed.add(write.kind === 'delete' ? null : write.value);
  }
  return allowed;
}

/**
 * The values `read` may return: what the writes started before it ended could have left,
 * where a write acknowledged only after the read started counts as one that may or may
 * not have taken effect yet.
 */
export function allowedReadValues(
  read: ReadEvent,
  writes: readonly WriteEvent[],
  options: CheckOptions = {},
): Set<string | null> {
  const seen = writes
    .filter((w) => w.start < read.end)
    .map((w): WriteEvent =>
      w.outcome === 'ok' && w.end > read.start ? { ...w, outcome: 'unknown' } : w,
    );
  return allowedFinalValues(seen, options);
}

function at(node: string | undefined): string {
  return node === undefined ? '' : ` @ ${node}`;
}

function show(value: string | null): string {
  return value === null ? '(not found)' : JSON.stringify(value);
}

/** The history of a key, one operation a line, in start order, with times relative to `origin`. */
export function formatHistory(history: KeyHistory, origin = 0): string {
  const t = (ms: number): string => (ms - origin).toFixed(1).padStart(9);
  const lines = [
    ...history.writes.map((w) => ({
      start: w.start,
      text: `[${t(w.start)} ..${t(w.end)}] ${w.op.padEnd(12)} ${w.kind === 'put' ? `put ${show(w.value)}` : 'delete'} -> ${w.outcome}${at(w.node)}`,
    })),
    ...history.reads.map((r) => ({
      start: r.start,
      text: `[${t(r.start)} ..${t(r.end)}] ${r.op.padEnd(12)} get -> ${show(r.value)}${at(r.node)}`,
    })),
  ].sort((a, b) => a.start - b.start);
  return [
    `history of key ${JSON.stringify(history.key)} (ms):`,
    ...lines.map((l) => `  ${l.text}`),
  ].join('\n');
}

function violation(
  history: KeyHistory,
  kind: ViolationKind,
  what: string,
  origin: number,
  read?: ReadEvent,
): Violation {
  return {
    key: history.key,
    kind,
    message: `key ${JSON.stringify(history.key)}: ${what}\n${formatHistory(history, origin)}`,
    ...(read ? { read } : {}),
  };
}

/**
 * Why `value` is not one of `allowed`: a value no write produced, a deleted key holding a
 * value again, or else a lost write; with a message that starts with `what` returned ...
 */
function explain(
  history: KeyHistory,
  what: string,
  value: string | null,
  allowed: ReadonlySet<string | null>,
  options: CheckOptions,
  origin: number,
): { kind: ViolationKind; text: string } {
  const expected = `expected one of ${[...allowed].map(show).join(', ')}`;
  if (value === null)
    return {
      kind: ViolationKind.lostWrite,
      text: `${what} found nothing, ${expected}: an acknowledged write was lost`,
    };
  const source = history.writes.find((w) => w.kind === 'put' && w.value === value);
  if (!source)
    return {
      kind: ViolationKind.phantom,
      text: `${what} returned ${show(value)}, which no write of this key produced; ${expected}`,
    };
  const by = overwrittenBy(source, history.writes, options) as WriteEvent;
  const how = by.kind === 'delete' ? `deleted by ${by.op}` : `overwritten by ${by.op}`;
  const deleted = [...allowed].every((v) => v === null);
  return {
    kind: deleted ? ViolationKind.resurrected : ViolationKind.lostWrite,
    text: `${what} returned ${show(value)} from ${source.op}, which was ${how} (started at ${(by.start - origin).toFixed(1)} ms, after ${source.op} ended); ${expected}`,
  };
}

/**
 * Checks a read made after every write of the history ended against the rule above.
 *
 * @param origin - subtracted from times in the message
 */
export function checkFinalValue(
  history: KeyHistory,
  finalValue: string | null,
  origin = 0,
  options: CheckOptions = {},
): Violation | undefined {
  const allowed = allowedFinalValues(history.writes, options);
  if (allowed.has(finalValue)) return undefined;
  const { kind, text } = explain(history, 'final read', finalValue, allowed, options, origin);
  return violation(history, kind, text, origin);
}

/**
 * With one writer per key: the reads that missed a write acknowledged before they started
 * (they returned nothing or an older value). Reads of a value no write produced, or of one
 * not yet written, are {@link checkReads}' to report.
 */
export function checkMissedReads(
  history: KeyHistory,
  origin = 0,
  options: CheckOptions = { singleWriter: true },
): Violation[] {
  const violations: Violation[] = [];
  for (const read of history.reads) {
    const allowed = allowedReadValues(read, history.writes, options);
    if (allowed.has(read.value)) continue;
    const source = history.writes.find((w) => w.kind === 'put' && w.value === read.value);
    if (read.value !== null && (!source || source.start > read.end)) continue;
    const { text } = explain(history, read.op, read.value, allowed, options, origin);
    violations.push(violation(history, ViolationKind.missedRead, text, origin, read));
  }
  return violations;
}

/**
 * Checks the reads made during the workload: each returns nothing or a value some write
 * of this key had started to write by the time the read ended. (Reads during the workload
 * may be stale, so this is all that can be said of them.)
 */
export function checkReads(history: KeyHistory, origin = 0): Violation[] {
  const violations: Violation[] = [];
  for (const read of history.reads) {
    if (read.value === null) continue;
    const source = history.writes.find((w) => w.kind === 'put' && w.value === read.value);
    if (!source) {
      violations.push(
        violation(
          history,
          ViolationKind.phantom,
          `${read.op} returned ${show(read.value)}, which no write of this key produced`,
          origin,
          read,
        ),
      );
    } else if (source.start > read.end) {
      violations.push(
        violation(
          history,
          ViolationKind.earlyRead,
          `${read.op} returned ${show(read.value)} before ${source.op} started writing it`,
          origin,
          read,
        ),
      );
    }
  }
  return violations;
}

/** Values must identify their write: a history with a value put twice cannot be judged. */
export function duplicateValues(histories: Iterable<KeyHistory>): string[] {
  const seen = new Set<string>();
  const duplicates: string[] = [];
  for (const history of histories) {
    for (const write of history.writes) {
      if (write.value === null) continue;
      if (seen.has(write.value)) duplicates.push(write.value);
      seen.add(write.value);
    }
  }
  return duplicates;
}

/**
 * Checks every key: its reads during the workload and its final value (a key missing from
 * `finalValues` counts as not found).
 */
export function checkHistories(
  histories: Iterable<KeyHistory>,
  finalValues: ReadonlyMap<string, string | null>,
  origin = 0,
  options: CheckOptions = {},
): Violation[] {
  const list = [...histories];
  const duplicates = duplicateValues(list);
  if (duplicates.length > 0) {
    throw new Error(
      `values must be unique per write; written more than once: ${duplicates.slice(0, 5).join(', ')}`,
    );
  }
  const violations: Violation[] = [];
  for (const history of list) {
    violations.push(...checkReads(history, origin));
    const final = checkFinalValue(history, finalValues.get(history.key) ?? null, origin, options);
    if (final) violations.push(final);
  }
  return violations;
}
