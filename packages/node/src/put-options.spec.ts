import { FakeNode, NOW } from './test-support/command-context';

let node: FakeNode;

beforeEach(() => {
  node = new FakeNode();
});

describe('SET with NX, XX and KEEPTTL', () => {
  it('NX writes only a key without a live value, answering null otherwise', async () => {
    node.set('deleted', null);
    node.set('expired', 'old', NOW - 1);
    node.set('taken', 'old');
    for (const key of ['missing', 'deleted', 'expired'])
      expect(String(await node.send('SET', key, 'new', 'NX'))).toBe('OK');
    expect(await node.send('SET', 'taken', 'new', 'nx')).toBeNull();
    expect(['missing', 'deleted', 'expired', 'taken'].map((k) => node.value(k))).toEqual([
      'new',
      'new',
      'new',
      'old',
    ]);
    // A quorum read that overlaps acknowledged writes, then the write.
    expect(node.calls.slice(0, 2)).toEqual([
      { op: 'readForWrite', key: 'missing', w: undefined },
      { op: 'write', key: 'missing', value: 'new', expiresAt: 0, w: undefined },
    ]);
  });

  it('XX writes only a key with a live value, answering null otherwise', async () => {
    node.set('expired', 'old', NOW - 1);
    node.set('taken', 'old', NOW + 5000);
    expect(await node.send('SET', 'missing', 'new', 'XX')).toBeNull();
    expect(await node.send('SET', 'expired', 'new', 'XX')).toBeNull();
    expect(String(await node.send('SET', 'taken', 'new', 'XX', 'EX', '10', 'W', '3'))).toBe('OK');
    expect(node.records.get('taken')).toMatchObject({ expiresAt: NOW + 10_000 });
    expect(node.value('taken')).toBe('new');
    expect(node.value('missing')).toBeUndefined();
    expect(node.calls.at(-2)).toEqual({ op: 'readForWrite', key: 'taken', w: 3 });
    // Without EX, XX replaces the expiry with none, as SET always does.
    expect(String(await node.send('SET', 'taken', 'newer', 'XX'))).toBe('OK');
    expect(await node.send('TTL', 'taken')).toBe(-1);
  });

  it('KEEPTTL keeps the expiry the key has, and sets none on a key without one', async () => {
    node.set('k', 'old', NOW + 5000);
    expect(String(await node.send('SET', 'k', 'new', 'KEEPTTL'))).toBe('OK');
    expect(node.records.get('k')).toMatchObject({ expiresAt: NOW + 5000 });
    expect(node.value('k')).toBe('new');
    expect(await node.send('SET', 'fresh', 'v', 'KEEPTTL', 'XX')).toBeNull();
    expect(String(await node.send('SET', 'fresh', 'v', 'KEEPTTL'))).toBe('OK');
    expect(await node.send('TTL', 'fresh')).toBe(-1);
  });

  it('a plain SET writes without reading first', async () => {
    expect(String(await node.send('SET', 'k', 'v', 'PX', '20'))).toBe('OK');
    expect(node.calls).toEqual([
      { op: 'write', key: 'k', value: 'v', expiresAt: NOW + 20, w: undefined },
    ]);
  });

  it('refuses conflicting, repeated and unknown options, writing nothing', async () => {
    const errors: [string[], string][] = [
      [['SET', 'k', 'v', 'NX', 'XX'], 'WRONGARGS NX and XX cannot be given together'],
      [['SET', 'k', 'v', 'XX', 'nx'], 'WRONGARGS NX and XX cannot be given together'],
      [
        ['SET', 'k', 'v', 'EX', '10', 'KEEPTTL'],
        'WRONGARGS EX and KEEPTTL cannot be given together',
      ],
      [
        ['SET', 'k', 'v', 'KEEPTTL', 'PX', '10'],
        'WRONGARGS PX and KEEPTTL cannot be given together',
      ],
      [['SET', 'k', 'v', 'EX', '10', 'PX', '10'], 'WRONGARGS EX and PX cannot be given together'],
      [['SET', 'k', 'v', 'EX', '0'], "WRONGARGS EX seconds must be an integer ≥ 1, got '0'"],
      [
        ['SET', 'k', 'v', 'EX', '-5', 'NX'],
        "WRONGARGS EX seconds must be an integer ≥ 1, got '-5'",
      ],
      [
        ['SET', 'k', 'v', 'PX', '12345678901234567'],
        "WRONGARGS PX milliseconds is out of range (at most 15 digits), got '12345678901234567'",
      ],
      [['SET', 'k', 'v', 'EX', '999999999999999'], "WRONGARGS invalid expire time in 'EX'"],
      [['SET', 'k', 'v', 'NX', 'EX'], 'WRONGARGS option EX needs a value'],
      [['SET', 'k', 'v', 'W'], 'WRONGARGS option W needs a value'],
      [
        ['SET', 'k', 'v', 'EXAT', '1'],
        "WRONGARGS unsupported option 'EXAT' (PUT key value [EX seconds|PX milliseconds|KEEPTTL] [NX|XX] [W n])",
      ],
      [
        ['SET', 'k', 'v', 'GET'],
        "WRONGARGS SET's GET option is not supported: it returns the old value and replaces it as one atomic step, which last-writer-wins replication cannot give (two concurrent SET ... GET could both get the same old value); GET, then SET, where that race is acceptable",
      ],
    ];
    for (const [args, error] of errors)
      expect([args, await node.send(...args)]).toEqual([args, error]);
    expect(node.calls).toEqual([]);
    node.outOfMemory = true;
    expect(await node.send('SET', 'k', 'v', 'NX')).toMatch(/^OOM/);
    expect(node.calls).toEqual([]);
  });

  it('fails as the read fails, writing nothing', async () => {
    node.failing.add('k');
    expect(await node.send('SET', 'k', 'v', 'NX')).toBe('UNAVAILABLE 1 of 2 replicas answered');
    expect(node.calls.filter((c) => c.op === 'write')).toEqual([]);
  });
});
