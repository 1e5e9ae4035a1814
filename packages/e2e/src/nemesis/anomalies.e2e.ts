import type { KeyHistory, ReadEvent, WriteEvent } from '../harness/history-checker';
import type { LocalRecord } from '../harness/resp';
import {
  analyse,
  failingCounts,
  ownersAgree,
  survivingRecord,
  type KeyState,
  type RunObservations,
} from './anomalies';

function put(
  value: string,
  start: number,
  end: number,
  outcome: WriteEvent['outcome'] = 'ok',
): WriteEvent {
  return { kind: 'put', value, op: value, start, end, outcome };
}

function del(op: string, start: number, end: number): WriteEvent {
  return { kind: 'delete', value: null, op, start, end, outcome: 'ok' };
}

function read(op: string, start: number, value: string | null): ReadEvent {
  return { op, start, end: start + 1, value };
}

function copy(value: string | null, ts: number, origin = 'n1'): LocalRecord {
  return { ts, origin, expiresAt: 0, value };
}

/** Owners n1..n3 of `key`, holding these records (null: no copy). */
function state(key: string, ...records: (LocalRecord | null)[]): KeyState {
  return {
    key,
    copies: records.map((record, i) => ({ node: `n${i + 1}`, record })),
    unreachable: [],
  };
}

/** A run: faults from 100 to 200, settled at 500. */
function observe(
  histories: KeyHistory[],
  states: KeyState[],
  operations: RunObservations['operations'] = [],
): ReturnType<typeof analyse> {
  return analyse({
    histories,
    states,
    faultWindows: [{ start: 100, end: 200 }],
    settledAt: 500,
    operations,
    origin: 0,
  });
}

/** Key k: a, then b, both acknowledged, read back after settling. */
const k: KeyHistory = {
  key: 'k',
  writes: [put('a', 0, 10), put('b', 20, 30)],
  reads: [read('r1', 40, 'b'), read('final', 600, 'b')],
};

describe('nemesis anomalies (pure, on hand-made runs)', () => {
  it('finds nothing in a clean run', () => {
    const { counts, violations } = observe(
      [k],
      [state('k', copy('b', 2), copy('b', 2), copy('b', 2))],
    );
    expect(violations).toEqual([]);
    expect(failingCounts(counts)).toEqual([]);
    expect(counts).toMatchObject({
      lostWrites: 0,
      resurrected: 0,
      phantoms: 0,
      divergent: 0,
      missedReadsAfterSettling: 0,
      missedReadsDuringFaults: 0,
      missedReadsBetweenFaults: 0,
    });
  });

  it('counts a lost acknowledged write: the owners kept an older value, or nothing', () => {
    const stale = observe([k], [state('k', copy('a', 1), copy('a', 1), copy('a', 1))]);
    expect(stale.counts.lostWrites).toBe(1);
    const gone = observe([k], [state('k', null, copy(null, 3), null)]);
    expect(gone.counts.lostWrites).toBe(1);
    expect(failingCounts(gone.counts)).toEqual(['1 lost acknowledged write(s)']);
  });

  it('judges the copy last-writer-wins keeps: an older value with a newer version wins over the acknowledged one', () => {
    const copies = [copy('b', 5, 'n2'), copy('a', 9, 'n1'), copy('b', 5, 'n2')];
    expect(survivingRecord(state('k', ...copies).copies)?.value).toBe('a');
    const { counts } = observe([k], [state('k', ...copies)]);
    expect(counts.lostWrites).toBe(1);
    expect(counts.divergent).toBe(1);
    // Equal timestamps: the greater origin wins, as in @kv/node.
    expect(survivingRecord(state('k', copy('x', 5, 'n1'), copy('y', 5, 'n2')).copies)?.value).toBe(
      'y',
    );
  });

  it('counts a resurrected delete', () => {
    const deleted: KeyHistory = {
      key: 'd',
      writes: [put('a', 0, 10), del('x', 20, 30)],
      reads: [],
    };
    const { counts, violations } = observe(
      [deleted],
      [state('d', copy('a', 1), copy('a', 1), copy('a', 1))],
    );
    expect(counts.resurrected).toBe(1);
    expect(counts.lostWrites).toBe(0);
    expect(violations[0]?.message).toMatch(/which was deleted by x/);
  });

  it('counts values no write produced, kept or read', () => {
    const odd: KeyHistory = { ...k, reads: [read('r1', 40, 'zzz')] };
    const { counts } = observe([odd], [state('k', copy('yyy', 3), copy('yyy', 3), copy('yyy', 3))]);
    expect(counts.phantoms).toBe(2);
  });

  it('counts keys whose owners disagree after settling, a tombstone and no copy agreeing', () => {
    expect(ownersAgree(state('k', copy(null, 4), null, copy(null, 4)))).toBe(true);
    const { counts } = observe([k], [state('k', copy('b', 2), copy('b', 2), null)]);
    expect(counts.divergent).toBe(1);
    expect(counts.lostWrites).toBe(0);
    expect(failingCounts(counts)).toEqual(['1 divergent key(s)']);
  });

  it('counts reads that missed an acknowledged write by when they were made', () => {
    const missed: KeyHistory = {
      key: 'k',
      writes: [put('a', 0, 10), put('b', 20, 30)],
      reads: [read('during', 150, 'a'), read('between', 300, null), read('after', 600, 'a')],
    };
    const { counts, violations } = observe(
      [missed],
      [state('k', copy('b', 2), copy('b', 2), copy('b', 2))],
    );
    // The one that fails the run is listed first.
    expect(violations.map((v) => v.read?.op)).toEqual(['after', 'during', 'between']);
    expect(counts.missedReadsDuringFaults).toBe(1);
    expect(counts.missedReadsBetweenFaults).toBe(1);
    expect(counts.missedReadsAfterSettling).toBe(1);
    expect(failingCounts(counts)).toEqual([
      '1 read(s) after settling missed an acknowledged write',
    ]);
  });

  it('leaves out the reads after settling of a key that lost its write, counted once as lost', () => {
    const lost: KeyHistory = { ...k, reads: [read('final', 600, 'a'), read('final@n2', 601, 'a')] };
    const { counts } = observe([lost], [state('k', copy('a', 1), copy('a', 1), copy('a', 1))]);
    expect(counts.lostWrites).toBe(1);
    expect(counts.missedReadsAfterSettling).toBe(0);
  });

  it('measures the share of operations that failed while faults were in force', () => {
    const { counts } = observe(
      [k],
      [state('k', copy('b', 2), copy('b', 2), copy('b', 2))],
      [
        { start: 50, end: 60, outcome: 'ok' },
        { start: 110, end: 120, outcome: 'ok' },
        { start: 120, end: 130, outcome: 'failed' },
        { start: 150, end: 250, outcome: 'unknown' },
        { start: 199, end: 210, outcome: 'ok' },
      ],
    );
    expect(counts.operationsDuringFaults).toBe(4);
    expect(counts.failedShareDuringFaults).toBe(0.5);
    expect(counts.operationsOutsideFaults).toBe(1);
    expect(counts.failedShareOutsideFaults).toBe(0);
  });
});
