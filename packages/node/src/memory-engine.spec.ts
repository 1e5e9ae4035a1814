import { token } from '@kv/ring';
import { MemoryEngine } from './memory-engine';
import { describeEngineContract } from './test-support/engine-contract';

describeEngineContract('MemoryEngine', () => new MemoryEngine());

describe('MemoryEngine keys', () => {
  const record = (value: string, ts: number) => ({
    value: Buffer.from(value),
    ts,
    origin: 'n1',
    expiresAt: 0,
  });

  it('files a record under the bytes its key Buffer holds now, when that Buffer is reused', () => {
    const engine = new MemoryEngine();
    const key = Buffer.from('key:a');
    expect(engine.peek(key)).toBeUndefined();
    engine.put(key, record('first', 1));
    // A caller that reuses its Buffer for the next key (a scratch buffer, a parser's input).
    key.write('key:b');
    expect(engine.peek(key)).toBeUndefined();
    engine.put(key, record('second', 2));
    expect(engine.get(Buffer.from('key:a'))?.value?.toString()).toBe('first');
    expect(engine.get(Buffer.from('key:b'))?.value?.toString()).toBe('second');
    expect(engine.size).toBe(2);
  });

  it('answers the token of a key it holds, and nothing for one it does not', () => {
    const engine = new MemoryEngine();
    const key = Buffer.from('user:42');
    expect(engine.tokenOf(key)).toBeUndefined();
    engine.put(key, record('v', 1));
    expect(engine.tokenOf(key)).toBe(token(key));
    expect(engine.tokenOf(Buffer.from('user:43'))).toBeUndefined();
    // A token the writer computed already is the one kept.
    const other = Buffer.from('user:44');
    engine.put(other, record('w', 2), token(other));
    expect(engine.tokenOf(other)).toBe(token(other));
    expect([...engine.entries()].map(([k, , t]) => [k.toString(), t])).toContainEqual([
      'user:44',
      token(other),
    ]);
  });
});
