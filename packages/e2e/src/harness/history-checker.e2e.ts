import {
  allowedFinalValues,
  allowedReadValues,
  checkFinalValue,
  checkHistories,
  checkMissedReads,
  checkReads,
  formatHistory,
  ViolationKind,
  type KeyHistory,
  type ReadEvent,
  type WriteEvent,
  type WriteOutcome,
} from './history-checker';

function put(value: string, start: number, end: number, outcome: WriteOutcome = 'ok'): WriteEvent {
  return { kind: 'put', value, op: value, start, end, outcome };
}

function del(op: string, start: number, end: number, outcome: WriteOutcome = 'ok'): WriteEvent {
  return { kind: 'delete', value: null, op, start, end, outcome };
}

function read(op: string, start: number, end: number, value: string | null): ReadEvent {
  return { op, start, end, value };
}

function history(writes: WriteEvent[], reads: ReadEvent[] = []): KeyHistory {
  return { key: 'k1', writes, reads };
}

function allowed(writes: WriteEvent[], singleWriter = false): (string | null)[] {
  return [...allowedFinalValues(writes, { singleWriter })].sort();
}

describe('history checker (pure, on hand-made histories)', () => {
  it('allows only "not found" for a key never written, and rejects a value from nowhere', () => {
    expect(allowed([])).toEqual([null]);
    expect(checkFinalValue(history([]), null)).toBeUndefined();
    expect(checkFinalValue(history([]), 'x')?.message).toMatch(/no write of this key produced/);
  });

  it('requires the value of the last acknowledged write, and reports a lost one', () => {
    const writes = [put('a', 0, 10), put('b', 20, 30)];
    expect(allowed(writes)).toEqual(['b']);
    expect(checkFinalValue(history(writes), 'b')).toBeUndefined();
    const lost = checkFinalValue(history(writes), null);
    expect(lost?.key).toBe('k1');
    expect(lost?.message).toMatch(
      /found nothing, expected one of "b": an acknowledged write was lost/,
    );
  });

  it('rejects an overwritten value, naming the write that overwrote it', () => {
    const stale = checkFinalValue(history([put('a', 0, 10), put('b', 20, 30)]), 'a');
    expect(stale?.message).toMatch(/returned "a" from a, which was overwritten by b/);
  });

  it('allows either of two overlapping acknowledged writes', () => {
    const writes = [put('a', 0, 10), put('b', 5, 15)];
    expect(allowed(writes)).toEqual(['a', 'b']);
  });

  it('rules a write out once an acknowledged write started after it ended, even if that one overlaps a later one', () => {
    // a ends at 10; c starts at 12: a is out. b overlaps c: both stay.
    const writes = [put('a', 0, 10), put('b', 5, 15), put('c', 12, 20)];
    expect(allowed(writes)).toEqual(['b', 'c']);
  });

  it('treats a delete as a write of "not found", so a deleted value must not come back', () => {
    const writes = [put('a', 0, 10), del('d1', 20, 30)];
    expect(allowed(writes)).toEqual([null]);
    const resurrected = checkFinalValue(history(writes), 'a');
    expect(resurrected?.message).toMatch(/returned "a" from a, which was deleted by d1/);
  });

  it('allows a value and "not found" when a put and a delete overlap', () => {
    expect(allowed([put('a', 0, 10), del('d1', 5, 15)])).toEqual(['a', null]);
  });

  it('allows a failed write to have taken effect or not, but not after an acknowledged write that followed it', () => {
    expect(allowed([put('a', 0, 10), put('b', 20, 30, 'failed')])).toEqual(['a', 'b']);
    expect(allowed([put('b', 0, 10, 'failed'), put('a', 20, 30)])).toEqual(['a']);
    expect(allowed([del('d1', 20, 30, 'failed'), put('a', 0, 10)])).toEqual(['a', null]);
  });

  it('allows a write with no reply to take effect at any later time', () => {
    const writes = [put('u', 0, 10, 'unknown'), put('a', 20, 30), put('b', 40, 50)];
    expect(allowed(writes)).toEqual(['b', 'u']);
  });

  it('allows "not found" when no write was acknowledged', () => {
    expect(allowed([put('a', 0, 10, 'failed'), put('b', 5, 8, 'unknown')])).toEqual([
      'a',
      'b',
      null,
    ]);
  });

  it('rejects a read of a value never written, or of one whose write had not started', () => {
    const writes = [put('a', 10, 20)];
    expect(checkReads(history(writes, [read('r1', 0, 5, null), read('r2', 12, 14, 'a')]))).toEqual(
      [],
    );
    const [phantom] = checkReads(history(writes, [read('r3', 30, 31, 'zzz')]));
    expect(phantom?.message).toMatch(/r3 returned "zzz", which no write of this key produced/);
    const [early] = checkReads(history(writes, [read('r4', 0, 5, 'a')]));
    expect(early?.message).toMatch(/r4 returned "a" before a started writing it/);
  });

  it('allows a stale read during the workload', () => {
    const writes = [put('a', 0, 10), put('b', 20, 30)];
    expect(checkReads(history(writes, [read('r1', 40, 41, 'a')]))).toEqual([]);
  });

  it('prints the key and its whole history, in start order, with the violation', () => {
    const h = history(
      [put('c1-op2', 20, 30), put('c0-op1', 0, 10, 'failed')],
      [read('c2-op7', 12, 13, null)],
    );
    const message = checkFinalValue(h, 'c0-op1', 0)?.message ?? '';
    const lines = message.split('\n');
    expect(lines[0]).toMatch(
      /^key "k1": final read returned "c0-op1" from c0-op1, which was overwritten by c1-op2/,
    );
    expect(lines[1]).toBe('history of key "k1" (ms):');
    expect(lines[2]).toMatch(/0\.0 .*10\.0\] c0-op1 +put "c0-op1" -> failed$/);
    expect(lines[3]).toMatch(/12\.0 .*13\.0\] c2-op7 +get -> \(not found\)$/);
    expect(lines[4]).toMatch(/20\.0 .*30\.0\] c1-op2 +put "c1-op2" -> ok$/);
  });

  it('names the node that coordinated a write or answered a read, when known', () => {
    const h = history(
      [{ ...put('a', 0, 10), node: '127.0.0.1:5001' }],
      [{ ...read('r1', 12, 13, 'a'), node: '127.0.0.1:5002' }],
    );
    const lines = formatHistory(h).split('\n');
    expect(lines[1]).toMatch(/put "a" -> ok @ 127\.0\.0\.1:5001$/);
    expect(lines[2]).toMatch(/get -> "a" @ 127\.0\.0\.1:5002$/);
  });

  it('checks every key and refuses histories whose values are not unique', () => {
    const a: KeyHistory = { key: 'a', writes: [put('v1', 0, 1)], reads: [] };
    const b: KeyHistory = { key: 'b', writes: [put('v2', 0, 1), del('d', 2, 3)], reads: [] };
    expect(checkHistories([a, b], new Map([['a', 'v1']]))).toEqual([]);
    const violations = checkHistories([a, b], new Map([['b', 'v2']]));
    expect(violations.map((v) => v.key)).toEqual(['a', 'b']);
    const twice: KeyHistory = { key: 'c', writes: [put('v1', 5, 6)], reads: [] };
    expect(() => checkHistories([a, twice], new Map())).toThrow(/unique per write.*v1/);
  });

  it('names the rule each violation broke', () => {
    const writes = [put('a', 0, 10), put('b', 20, 30)];
    expect(checkFinalValue(history(writes), null)?.kind).toBe(ViolationKind.lostWrite);
    expect(checkFinalValue(history(writes), 'a')?.kind).toBe(ViolationKind.lostWrite);
    expect(checkFinalValue(history(writes), 'zzz')?.kind).toBe(ViolationKind.phantom);
    const deleted = [put('a', 0, 10), put('b', 20, 30), del('d1', 40, 50)];
    expect(checkFinalValue(history(deleted), 'a')?.kind).toBe(ViolationKind.resurrected);
    expect(checkFinalValue(history(deleted), 'b')?.kind).toBe(ViolationKind.resurrected);
    const [phantom] = checkReads(history(writes, [read('r1', 40, 41, 'zzz')]));
    expect(phantom?.kind).toBe(ViolationKind.phantom);
    const [early] = checkReads(history(writes, [read('r2', 0, 5, 'b')]));
    expect(early?.kind).toBe(ViolationKind.earlyRead);
    expect(early?.read?.op).toBe('r2');
  });
});

describe('history checker with one writer per key', () => {
  it('rules out a write with no reply once its writer moved on and a later write was acknowledged', () => {
    const writes = [put('u', 0, 10, 'unknown'), put('a', 20, 30)];
    expect(allowed(writes)).toEqual(['a', 'u']);
    expect(allowed(writes, true)).toEqual(['a']);
    const late = checkFinalValue(history(writes), 'u', 0, { singleWriter: true });
    expect(late?.kind).toBe(ViolationKind.lostWrite);
    expect(late?.message).toMatch(/returned "u" from u, which was overwritten by a/);
  });

  it('still allows the writes after the last acknowledged one, whatever their outcome', () => {
    const writes = [put('a', 0, 10), put('f', 20, 30, 'failed'), put('u', 40, 50, 'unknown')];
    expect(allowed(writes, true)).toEqual(['a', 'f', 'u']);
    expect(allowed([del('d1', 0, 10), put('u', 20, 30, 'unknown')], true)).toEqual([null, 'u']);
  });

  it('counts an old value coming back after an acknowledged delete as a resurrection', () => {
    const writes = [put('a', 0, 10), del('d1', 20, 30, 'unknown'), del('d2', 40, 50)];
    const back = checkFinalValue(history(writes), 'a', 0, { singleWriter: true });
    expect(back?.kind).toBe(ViolationKind.resurrected);
    expect(back?.message).toMatch(/which was deleted by d2/);
  });

  it('lets a read return any write acknowledged or started since the last one acknowledged before it started', () => {
    const writes = [put('a', 0, 10), put('b', 20, 30), put('c', 45, 60), put('d', 70, 80)];
    // Read from 40 to 50: b was acknowledged before it; c overlaps it; d is later.
    expect(
      [...allowedReadValues(read('r', 40, 50, null), writes, { singleWriter: true })].sort(),
    ).toEqual(['b', 'c']);
    expect([...allowedReadValues(read('r', -5, -1, null), writes)]).toEqual([null]);
  });

  it('reports reads that missed an acknowledged write, and nothing else', () => {
    const writes = [put('a', 0, 10), put('b', 20, 30), del('d', 50, 60)];
    const reads = [
      read('ok1', 12, 13, 'a'),
      read('ok2', 25, 35, 'a'),
      read('ok3', 40, 41, 'b'),
      read('ok4', 55, 58, 'b'),
      read('ok5', 70, 71, null),
      read('stale', 40, 42, 'a'),
      read('empty', 40, 43, null),
      read('back', 70, 72, 'b'),
      read('phantom', 70, 73, 'zzz'),
    ];
    const missed = checkMissedReads(history(writes, reads));
    expect(missed.map((v) => v.read?.op)).toEqual(['stale', 'empty', 'back']);
    expect(missed.every((v) => v.kind === ViolationKind.missedRead)).toBe(true);
    expect(missed[0]?.message).toMatch(/stale returned "a" from a, which was overwritten by b/);
    expect(missed[1]?.message).toMatch(/empty found nothing, expected one of "b"/);
  });

  it('finds nothing to report in a clean history', () => {
    const writes = [
      put('a', 0, 10),
      put('f', 20, 30, 'failed'),
      del('d', 40, 50),
      put('u', 60, 70, 'unknown'),
      put('b', 80, 90),
    ];
    const reads = [
      read('r1', 11, 12, 'a'),
      read('r2', 31, 32, 'f'),
      read('r3', 33, 34, 'a'),
      read('r4', 51, 52, null),
      read('r5', 71, 72, 'u'),
      read('r6', 73, 74, null),
      read('r7', 91, 92, 'b'),
    ];
    const h = history(writes, reads);
    expect(checkMissedReads(h)).toEqual([]);
    expect(checkReads(h)).toEqual([]);
    expect(checkHistories([h], new Map([['k1', 'b']]), 0, { singleWriter: true })).toEqual([]);
  });
});
