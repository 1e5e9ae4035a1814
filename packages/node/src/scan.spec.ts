import { MemoryEngine } from './memory-engine';
import { ScanCursors, globMatcher } from './scan';

function engineWith(n: number): MemoryEngine {
  const engine = new MemoryEngine();
  for (let i = 0; i < n; i++)
    engine.put(Buffer.from(`k${i}`), { value: Buffer.from('v'), ts: 1, origin: 'a', expiresAt: 0 });
  engine.put(Buffer.from('gone'), { value: null, ts: 1, origin: 'a', expiresAt: 0 });
  return engine;
}

function scanAll(cursors: ScanCursors, count: number, match?: (k: Buffer) => boolean): string[] {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = cursors.step(cursor, count, match);
    keys.push(...found.map(String));
    cursor = next;
  } while (cursor !== '0');
  return keys;
}

describe('ScanCursors', () => {
  it('returns every live key once, across steps, and no tombstone', () => {
    const keys = scanAll(new ScanCursors(engineWith(25)), 4);
    expect(keys.sort()).toEqual(Array.from({ length: 25 }, (_, i) => `k${i}`).sort());
  });

  it('returns keys present for the whole scan even when others change meanwhile', () => {
    const engine = engineWith(10);
    const cursors = new ScanCursors(engine);
    const [cursor, first] = cursors.step('0', 3);
    engine.remove(Buffer.from('k9'));
    engine.put(Buffer.from('new'), { value: Buffer.from('v'), ts: 2, origin: 'a', expiresAt: 0 });
    const rest: string[] = [];
    let c = cursor;
    while (c !== '0') {
      const [next, found] = cursors.step(c, 3);
      rest.push(...found.map(String));
      c = next;
    }
    const seen = [...first.map(String), ...rest];
    for (let i = 0; i < 9; i++) expect(seen.filter((k) => k === `k${i}`)).toHaveLength(1);
  });

  it('filters with MATCH and refuses an unknown or expired cursor', () => {
    let t = 0;
    const cursors = new ScanCursors(engineWith(30), { idleMs: 100, now: () => t });
    expect(scanAll(cursors, 7, globMatcher('k1*')).sort()).toEqual(
      ['k1', 'k10', 'k11', 'k12', 'k13', 'k14', 'k15', 'k16', 'k17', 'k18', 'k19'].sort(),
    );
    const [cursor] = cursors.step('0', 2);
    t = 1000;
    expect(() => cursors.step(cursor, 2)).toThrow(`unknown or expired cursor ${cursor}`);
    expect(() => cursors.step('12345', 2)).toThrow(RangeError);
  });
});

describe('globMatcher', () => {
  it.each([
    ['user:*', 'user:1', true],
    ['user:*', 'use', false],
    ['h?llo', 'hello', true],
    ['h[ae]llo', 'hallo', true],
    ['h[^e]llo', 'hello', false],
    ['a\\*b', 'a*b', true],
    ['a\\*b', 'axb', false],
    ['a.b', 'axb', false],
    ['[unclosed', '[unclosed', true],
  ])('%s against %s is %s', (pattern, key, expected) => {
    expect(globMatcher(pattern)(Buffer.from(key))).toBe(expected);
  });
});
