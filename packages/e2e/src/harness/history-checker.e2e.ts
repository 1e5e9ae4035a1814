import {
  allowedFinalValues,
  checkFinalValue,
  checkHistories,
  checkReads,
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

function allowed(writes: WriteEvent[]): (string | null)[] {
  return [...allowedFinalValues(writes)].sort();
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

  it('checks every key and refuses histories whose values are not unique', () => {
    const a: KeyHistory = { key: 'a', writes: [put('v1', 0, 1)], reads: [] };
    const b: KeyHistory = { key: 'b', writes: [put('v2', 0, 1), del('d', 2, 3)], reads: [] };
    expect(checkHistories([a, b], new Map([['a', 'v1']]))).toEqual([]);
    const violations = checkHistories([a, b], new Map([['b', 'v2']]));
    expect(violations.map((v) => v.key)).toEqual(['a', 'b']);
    const twice: KeyHistory = { key: 'c', writes: [put('v1', 5, 6)], reads: [] };
    expect(() => checkHistories([a, twice], new Map())).toThrow(/unique per write.*v1/);
  });
});
