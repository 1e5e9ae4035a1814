import {
  checkFinalValue,
  checkMissedReads,
  checkReads,
  ViolationKind,
  type KeyHistory,
  type ReadEvent,
  type Violation,
  type WriteOutcome,
} from '../harness/history-checker';
import type { LocalRecord } from '../harness/resp';

/**
 * What a nemesis run found, from what its clients saw and what the replicas hold once it
 * settled. Pure: no I/O, no clock.
 */

/** One owner's copy of a key: null when it holds none. */
export interface ReplicaCopy {
  /** `host:port` of the owner. */
  readonly node: string;
  readonly record: LocalRecord | null;
}

/** A key's owners after settling, and what each holds. */
export interface KeyState {
  readonly key: string;
  readonly copies: readonly ReplicaCopy[];
  /** Owners that could not be asked. */
  readonly unreachable: readonly string[];
}

/** A span of time on `performance.now()`. */
export interface TimeWindow {
  readonly start: number;
  readonly end: number;
}

/** What a run observed. */
export interface RunObservations {
  /** Every key's writes and reads, from the workload and the final reads. */
  readonly histories: readonly KeyHistory[];
  /** What each owner holds after settling. */
  readonly states: readonly KeyState[];
  /** When faults were in force. */
  readonly faultWindows: readonly TimeWindow[];
  /** Reads that start from here on count as made after settling. */
  readonly settledAt: number;
  /** How every operation ended, reads that failed included. */
  readonly operations: readonly (TimeWindow & { readonly outcome: WriteOutcome })[];
  /** Subtracted from times in messages. */
  readonly origin: number;
}

/** Counts of what a run found. */
export interface AnomalyCounts {
  /** Keys whose surviving value is older than their last acknowledged write. */
  readonly lostWrites: number;
  /** Keys holding a value again after an acknowledged delete. */
  readonly resurrected: number;
  /** Values no write produced, or read before their write started (keys and reads). */
  readonly phantoms: number;
  /** Keys whose owners answer differently after settling. */
  readonly divergent: number;
  /**
   * Reads that missed a write acknowledged before they started, by when they were made.
   * After settling, reads of a key that lost a write or was resurrected are left out: they
   * show that key's loss again, counted above, rather than a read gone astray.
   */
  readonly missedReadsAfterSettling: number;
  readonly missedReadsDuringFaults: number;
  readonly missedReadsBetweenFaults: number;
  /** Operations started while a fault was in force, and the share of them that failed or got no answer. */
  readonly operationsDuringFaults: number;
  readonly failedShareDuringFaults: number;
  readonly operationsOutsideFaults: number;
  readonly failedShareOutsideFaults: number;
}

/** The counts and the violations behind them (with each key's whole history). */
export interface Analysis {
  readonly counts: AnomalyCounts;
  /** Those that fail the run first. */
  readonly violations: readonly Violation[];
  /** Keys whose owners disagree, with what each holds. */
  readonly divergent: readonly KeyState[];
}

/** What a read of a copy returns: its value, or null for a tombstone or no copy. */
export function visibleValue(record: LocalRecord | null): string | null {
  return record?.value ?? null;
}

/** Whether version `a` is newer than `b` under last-writer-wins on (timestamp, origin). */
function newer(a: LocalRecord, b: LocalRecord): boolean {
  return a.ts !== b.ts ? a.ts > b.ts : a.origin > b.origin;
}

/** The copy last-writer-wins keeps when the owners' copies meet: the newest version. */
export function survivingRecord(copies: readonly ReplicaCopy[]): LocalRecord | null {
  let winner: LocalRecord | null = null;
  for (const { record } of copies)
    if (record && (!winner || newer(record, winner))) winner = record;
  return winner;
}

/** True when every owner asked answers the same (a tombstone and no copy both mean not found). */
export function ownersAgree(state: KeyState): boolean {
  return new Set(state.copies.map((c) => visibleValue(c.record))).size <= 1;
}

function overlaps(time: number, windows: readonly TimeWindow[]): boolean {
  return windows.some((w) => time >= w.start && time <= w.end);
}

function failedShare(outcomes: readonly WriteOutcome[]): number {
  return outcomes.length === 0 ? 0 : outcomes.filter((o) => o !== 'ok').length / outcomes.length;
}

function readDuring(read: ReadEvent, windows: readonly TimeWindow[]): boolean {
  return windows.some((w) => read.start <= w.end && read.end >= w.start);
}

/**
 * Checks a run: the value each key keeps (the newest copy among its owners) against its
 * history with one writer per key; whether its owners agree; every read against the writes
 * acknowledged before it; and how many operations failed while faults were in force.
 */
export function analyse(observations: RunObservations): Analysis {
  const { histories, states, faultWindows, settledAt, origin } = observations;
  // Violations that fail the run come first in the list; missed reads made before
  // settling follow.
  const failing: Violation[] = [];
  const reported: Violation[] = [];
  const byKey = new Map(states.map((s) => [s.key, s]));
  let lostWrites = 0;
  let resurrected = 0;
  let phantoms = 0;
  let after = 0;
  let during = 0;
  let between = 0;
  for (const history of histories) {
    const state = byKey.get(history.key);
    const kept = visibleValue(survivingRecord(state?.copies ?? []));
    const final = checkFinalValue(history, kept, origin, { singleWriter: true });
    if (final) {
      failing.push(final);
      if (final.kind === ViolationKind.resurrected) resurrected++;
      else if (final.kind === ViolationKind.phantom) phantoms++;
      else lostWrites++;
    }
    const odd = checkReads(history, origin);
    phantoms += odd.length;
    failing.push(...odd);
    for (const missed of checkMissedReads(history, origin)) {
      const read = missed.read as ReadEvent;
      if (read.start >= settledAt) {
        if (final) continue;
        failing.push(missed);
        after++;
      } else {
        reported.push(missed);
        if (readDuring(read, faultWindows)) during++;
        else between++;
      }
    }
  }
  const divergent = states.filter((s) => !ownersAgree(s));
  const duringFaults = observations.operations.filter((o) => overlaps(o.start, faultWindows));
  const outsideFaults = observations.operations.filter((o) => !overlaps(o.start, faultWindows));
  return {
    counts: {
      lostWrites,
      resurrected,
      phantoms,
      divergent: divergent.length,
      missedReadsAfterSettling: after,
      missedReadsDuringFaults: during,
      missedReadsBetweenFaults: between,
      operationsDuringFaults: duringFaults.length,
      failedShareDuringFaults: failedShare(duringFaults.map((o) => o.outcome)),
      operationsOutsideFaults: outsideFaults.length,
      failedShareOutsideFaults: failedShare(outsideFaults.map((o) => o.outcome)),
    },
    violations: [...failing, ...reported],
    divergent,
  };
}

/** The anomalies that fail a run: any lost, resurrected, phantom or divergent key, or a missed read after settling. */
export function failingCounts(counts: AnomalyCounts): string[] {
  const failing: string[] = [];
  if (counts.lostWrites > 0) failing.push(`${counts.lostWrites} lost acknowledged write(s)`);
  if (counts.resurrected > 0) failing.push(`${counts.resurrected} resurrected delete(s)`);
  if (counts.phantoms > 0) failing.push(`${counts.phantoms} phantom value(s)`);
  if (counts.divergent > 0) failing.push(`${counts.divergent} divergent key(s)`);
  if (counts.missedReadsAfterSettling > 0)
    failing.push(
      `${counts.missedReadsAfterSettling} read(s) after settling missed an acknowledged write`,
    );
  return failing;
}
