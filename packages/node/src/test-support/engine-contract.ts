import { TOKEN_SPACE, token } from '@kv/ring';
import type { StorageEngine } from '../engine';
import type { StoredRecord } from '../record';

const rec = (value: string | null, ts = 1): StoredRecord => ({
  value: value === null ? null : Buffer.from(value),
  ts,
  origin: 'n1',
  expiresAt: 0,
});

/** The behaviour every storage engine must have; run it from each engine's spec. */
export function describeEngineContract(
  name: string,
  create: () => StorageEngine | Promise<StorageEngine>,
): void {
  describe(`${name} (engine contract)`, () => {
    let engine: StorageEngine;
    beforeEach(async () => {
      engine = await create();
    });
    afterEach(async () => {
      await engine.close();
    });

    it('stores, replaces and removes records by key bytes', async () => {
      expect(engine.get(Buffer.from('k'))).toBeUndefined();
      await engine.put(Buffer.from('k'), rec('v1'));
      await engine.put(Buffer.from('k'), rec('v2', 2));
      expect(engine.get(Buffer.from('k'))).toEqual(rec('v2', 2));
      expect(engine.size).toBe(1);
      await engine.remove(Buffer.from('k'));
      expect(engine.get(Buffer.from('k'))).toBeUndefined();
      expect(engine.size).toBe(0);
    });

    it('keeps tombstones as records, and counts them', async () => {
      await engine.put(Buffer.from('gone'), rec(null, 5));
      expect(engine.get(Buffer.from('gone'))).toEqual(rec(null, 5));
      expect(engine.size).toBe(1);
      expect(engine.tombstones).toBe(1);
      expect(engine.peek(Buffer.from('gone'))).toMatchObject({ ts: 5, deleted: true });
      await engine.put(Buffer.from('gone'), rec('back', 6));
      expect(engine.tombstones).toBe(0);
      await engine.put(Buffer.from('gone'), rec(null, 7));
      await engine.remove(Buffer.from('gone'));
      expect([engine.size, engine.tombstones]).toEqual([0, 0]);
    });

    it('keeps every field of a record exactly', async () => {
      const record: StoredRecord = {
        value: Buffer.from([0, 1, 2, 255]),
        ts: 1_764_000_000_000 * 1024 + 1023,
        origin: '10.0.0.7:5003',
        expiresAt: 1_764_000_123_456,
      };
      await engine.put(Buffer.from('exact'), record);
      await engine.put(Buffer.from('empty'), { ...record, value: Buffer.alloc(0), origin: 'b' });
      expect(engine.get(Buffer.from('exact'))).toEqual(record);
      expect(engine.peek(Buffer.from('exact'))).toEqual({
        ts: record.ts,
        origin: record.origin,
        expiresAt: record.expiresAt,
        deleted: false,
      });
      expect(engine.peek(Buffer.from('nothing'))).toBeUndefined();
      expect(engine.get(Buffer.from('empty'))?.value).toEqual(Buffer.alloc(0));
      expect(engine.get(Buffer.from('empty'))?.origin).toBe('b');
      const big = { ...record, value: Buffer.alloc(100_000, 7) };
      await engine.put(Buffer.from('big'), big);
      expect(engine.get(Buffer.from('big'))).toEqual(big);
    });

    it('treats keys as raw bytes: binary keys and UTF-8 keys are distinct and exact', async () => {
      const binary = Buffer.from([0, 255, 10, 13]);
      const utf8 = Buffer.from('ключ');
      await engine.put(binary, rec('b'));
      await engine.put(utf8, rec('u'));
      expect(engine.get(Buffer.from(binary))?.value?.toString()).toBe('b');
      expect(engine.get(Buffer.from('ключ'))?.value?.toString()).toBe('u');
      const keys = [...engine.entries()].map(([k]) => k.toString('hex')).sort();
      expect(keys).toEqual([binary.toString('hex'), utf8.toString('hex')].sort());
    });

    it('iterates exactly the keys whose tokens fall in a range', async () => {
      const keys = Array.from({ length: 200 }, (_, i) => Buffer.from(`key:${i}`));
      for (const k of keys) await engine.put(k, rec('v'));
      const range = { start: 2 ** 46, end: 2 ** 47 };
      const inside = [...engine.entries(range)].map(([k]) => k.toString()).sort();
      const expected = keys
        .filter((k) => token(k) >= range.start && token(k) < range.end)
        .map(String)
        .sort();
      expect(inside).toEqual(expected);
      expect(expected.length).toBeGreaterThan(0);
      expect([...engine.entries()]).toHaveLength(200);
    });

    it('iterates entries and versions in ascending token order, with each key’s token', async () => {
      const keys = Array.from({ length: 300 }, (_, i) => Buffer.from(`ordered:${i}`));
      for (const k of keys) await engine.put(k, rec('v', 3));
      await engine.put(Buffer.from('ordered:7'), rec(null, 4));
      const expected = keys
        .map((k) => ({ key: k.toString(), t: token(k) }))
        .sort((a, b) => a.t - b.t)
        .map((e) => e.key);
      const entries = [...engine.entries()];
      expect(entries.map(([k]) => k.toString())).toEqual(expected);
      for (const [k, , t] of entries) expect(t).toBe(token(k));
      const versions = [...engine.versions()];
      expect(versions.map(([k]) => k.toString())).toEqual(expected);
      expect(versions.find(([k]) => k.toString() === 'ordered:7')?.[1]).toMatchObject({
        ts: 4,
        deleted: true,
      });
      for (const [k, , t] of versions) expect(t).toBe(token(k));
    });

    it('walks ranges in order: adjacent ranges cover the whole space exactly once', async () => {
      const keys = Array.from({ length: 500 }, (_, i) => Buffer.from(`split:${i}`));
      for (const k of keys) await engine.put(k, rec('v'));
      const cuts = [0, 1, 2 ** 40, 2 ** 40 + 12_345, 2 ** 47, TOKEN_SPACE - 1, TOKEN_SPACE];
      const walked: string[] = [];
      for (let i = 0; i + 1 < cuts.length; i++) {
        const range = { start: cuts[i] as number, end: cuts[i + 1] as number };
        const part = [...engine.versions(range)];
        for (const [, , t] of part) expect(t >= range.start && t < range.end).toBe(true);
        walked.push(...part.map(([k]) => k.toString()));
      }
      expect(walked).toEqual([...engine.entries()].map(([k]) => k.toString()));
      expect(walked).toHaveLength(500);
      expect([...engine.entries({ start: 5, end: 5 })]).toEqual([]);
    });

    it('keeps copies: changing the buffers it was given afterwards changes nothing', async () => {
      const key = Buffer.from('shared');
      const value = Buffer.from('original');
      await engine.put(key, { ...rec('x'), value });
      value.write('XXXXXXXX');
      key.write('zzzzzz');
      expect(engine.get(Buffer.from('shared'))?.value?.toString()).toBe('original');
      expect(engine.get(Buffer.from('zzzzzz'))).toBeUndefined();
    });

    it('tracks the bytes it holds', async () => {
      const before = engine.bytes;
      await engine.put(Buffer.from('k'), rec('x'.repeat(1000)));
      expect(engine.bytes).toBeGreaterThan(before + 1000);
      await engine.remove(Buffer.from('k'));
      expect(engine.bytes).toBe(before);
    });
  });
}
