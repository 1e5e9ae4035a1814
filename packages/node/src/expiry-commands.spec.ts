import { FakeNode, NOW } from './test-support/command-context';

let node: FakeNode;

beforeEach(() => {
  node = new FakeNode();
});

describe('TTL and PTTL', () => {
  it('answer -2 for a missing, deleted or expired key and -1 for a key without expiry', async () => {
    node.set('deleted', null);
    node.set('expired', 'v', NOW - 1);
    node.set('ends-now', 'v', NOW);
    node.set('forever', 'v');
    for (const command of ['TTL', 'PTTL']) {
      expect(await node.send(command, 'missing')).toBe(-2);
      expect(await node.send(command, 'deleted')).toBe(-2);
      expect(await node.send(command, 'expired')).toBe(-2);
      expect(await node.send(command, 'ends-now')).toBe(-2);
      expect(await node.send(command, 'forever')).toBe(-1);
    }
  });

  it('answer the time left, TTL rounding seconds to the nearest as Redis does', async () => {
    const cases: [left: number, seconds: number][] = [
      [1, 0],
      [499, 0],
      [500, 1],
      [1499, 1],
      [1500, 2],
      [100_000, 100],
    ];
    for (const [left, seconds] of cases) {
      node.set('k', 'v', NOW + left);
      expect(await node.send('PTTL', 'k')).toBe(left);
      expect(await node.send('TTL', 'k')).toBe(seconds);
    }
  });

  it('read with the R given, and refuse bad input', async () => {
    node.set('k', 'v', NOW + 5000);
    expect(await node.send('ttl', 'k', 'R', '2')).toBe(5);
    expect(node.calls).toEqual([{ op: 'read', key: 'k', r: 2 }]);
    expect(await node.send('TTL')).toBe(
      "WRONGARGS wrong number of arguments for 'TTL': TTL key [R n]",
    );
    expect(await node.send('PTTL', 'a', 'b')).toBe('WRONGARGS PTTL key [R n]');
    expect(await node.send('TTL', 'k', 'R', '0')).toBe(
      "WRONGARGS R must be an integer ≥ 1, got '0'",
    );
    expect(await node.send('TTL', 'k'.repeat(17))).toBe(
      'TOOLARGE key of 17 bytes exceeds the limit of 16 bytes',
    );
    node.failing.add('k');
    expect(await node.send('TTL', 'k')).toBe('UNAVAILABLE 1 of 2 replicas answered');
  });
});

describe('EXPIRE and PEXPIRE', () => {
  it('set an expiry by writing the value read back as a new version, answering 1', async () => {
    node.set('k', 'v');
    expect(await node.send('EXPIRE', 'k', '100')).toBe(1);
    expect(node.calls).toEqual([
      { op: 'readForWrite', key: 'k', w: undefined },
      { op: 'write', key: 'k', value: 'v', expiresAt: NOW + 100_000, w: undefined },
    ]);
    expect(await node.send('TTL', 'k')).toBe(100);
    expect(await node.send('PEXPIRE', 'k', '1500', 'W', '3')).toBe(1);
    expect(node.calls.at(-1)).toEqual({
      op: 'write',
      key: 'k',
      value: 'v',
      expiresAt: NOW + 1500,
      w: 3,
    });
    expect(node.calls.at(-2)).toEqual({ op: 'readForWrite', key: 'k', w: 3 });
    expect(await node.send('PTTL', 'k')).toBe(1500);
  });

  it('answer 0 and write nothing for a missing, deleted or expired key', async () => {
    node.set('deleted', null);
    node.set('expired', 'v', NOW - 1);
    for (const key of ['missing', 'deleted', 'expired']) {
      expect(await node.send('EXPIRE', key, '10')).toBe(0);
      expect(await node.send('PEXPIRE', key, '10')).toBe(0);
    }
    expect(node.calls.filter((c) => c.op === 'write')).toEqual([]);
  });

  it('delete the key for a timeout of 0 or less, as Redis', async () => {
    for (const timeout of ['0', '-1', '-100000']) {
      node.set('k', 'v', NOW + 60_000);
      expect(await node.send('EXPIRE', 'k', timeout)).toBe(1);
      expect(node.calls.at(-1)).toMatchObject({ op: 'write', value: null, expiresAt: 0 });
      expect(await node.send('GET', 'k')).toBeNull();
      expect(await node.send('TTL', 'k')).toBe(-2);
    }
    node.set('k', 'v');
    expect(await node.send('PEXPIRE', 'k', '0')).toBe(1);
    expect(await node.send('EXISTS', 'k')).toBe(0);
  });

  it('follow NX, XX, GT and LT as Redis, a key without expiry counting as never expiring', async () => {
    // [options, expiry before (0: none), timeout in seconds, answer]
    const cases: [string[], number, number, 0 | 1][] = [
      [['NX'], 0, 10, 1],
      [['NX'], NOW + 5000, 10, 0],
      [['XX'], 0, 10, 0],
      [['XX'], NOW + 5000, 10, 1],
      [['GT'], 0, 10, 0],
      [['GT'], NOW + 5000, 10, 1],
      [['GT'], NOW + 50_000, 10, 0],
      [['GT'], NOW + 10_000, 10, 0],
      [['LT'], 0, 10, 1],
      [['LT'], NOW + 5000, 10, 0],
      [['LT'], NOW + 50_000, 10, 1],
      [['XX', 'GT'], 0, 10, 0],
      [['XX', 'GT'], NOW + 5000, 10, 1],
      [['XX', 'LT'], 0, 10, 0],
      [['xx', 'lt'], NOW + 50_000, 10, 1],
      [['NX', 'NX'], 0, 10, 1],
    ];
    for (const [options, before, timeout, answer] of cases) {
      node.set('k', 'v', before);
      expect([
        options,
        before - NOW,
        await node.send('EXPIRE', 'k', String(timeout), ...options),
      ]).toEqual([options, before - NOW, answer]);
      expect(node.records.get('k')?.expiresAt).toBe(answer === 1 ? NOW + timeout * 1000 : before);
    }
  });

  it('refuse bad timeouts and options before reading anything', async () => {
    node.set('k', 'v');
    const errors: [string[], string][] = [
      [
        ['EXPIRE', 'k'],
        "WRONGARGS wrong number of arguments for 'EXPIRE': EXPIRE key seconds [NX|XX|GT|LT] [W n]",
      ],
      [['EXPIRE', 'k', '1.5'], "WRONGARGS seconds must be an integer, got '1.5'"],
      [['EXPIRE', 'k', 'ten'], "WRONGARGS seconds must be an integer, got 'ten'"],
      [['EXPIRE', 'k', ''], "WRONGARGS seconds must be an integer, got ''"],
      [['PEXPIRE', 'k', '1e3'], "WRONGARGS milliseconds must be an integer, got '1e3'"],
      [
        ['EXPIRE', 'k', '99999999999999999999'],
        "WRONGARGS seconds is out of range (at most 15 digits), got '99999999999999999999'",
      ],
      [
        ['EXPIRE', 'k', '999999999999999'],
        "WRONGARGS invalid expire time in 'EXPIRE': past what a record can carry (year 10889)",
      ],
      [
        ['EXPIRE', 'k', '-999999999999999'],
        "WRONGARGS invalid expire time in 'EXPIRE': past what a record can carry (year 10889)",
      ],
      [
        ['PEXPIRE', 'k', String(2 ** 48)],
        "WRONGARGS invalid expire time in 'PEXPIRE': past what a record can carry (year 10889)",
      ],
      [
        ['EXPIRE', 'k', '10', 'NX', 'XX'],
        'WRONGARGS NX and XX, GT or LT options at the same time are not compatible',
      ],
      [
        ['EXPIRE', 'k', '10', 'GT', 'NX'],
        'WRONGARGS NX and XX, GT or LT options at the same time are not compatible',
      ],
      [
        ['EXPIRE', 'k', '10', 'GT', 'LT'],
        'WRONGARGS GT and LT options at the same time are not compatible',
      ],
      [
        ['EXPIRE', 'k', '10', 'SOON'],
        "WRONGARGS unsupported option 'SOON' (EXPIRE key seconds [NX|XX|GT|LT] [W n])",
      ],
      [['EXPIRE', 'k', '10', 'W'], 'WRONGARGS option W needs a value'],
      [['EXPIRE', 'k', '10', 'W', '0'], "WRONGARGS W must be an integer ≥ 1, got '0'"],
      [['EXPIRE', 'k'.repeat(17), '10'], 'TOOLARGE key of 17 bytes exceeds the limit of 16 bytes'],
    ];
    for (const [args, error] of errors)
      expect([args, await node.send(...args)]).toEqual([args, error]);
    expect(node.calls).toEqual([]);
    expect(node.records.get('k')?.expiresAt).toBe(0);
  });

  it('fail as the read or the write fails', async () => {
    node.set('k', 'v');
    node.failing.add('k');
    expect(await node.send('EXPIRE', 'k', '10')).toBe('UNAVAILABLE 1 of 2 replicas answered');
    expect(node.calls.filter((c) => c.op === 'write')).toEqual([]);
  });
});

describe('PERSIST', () => {
  it('removes an expiry, answering 1, and answers 0 for no expiry or no key', async () => {
    node.set('k', 'v', NOW + 5000);
    expect(await node.send('PERSIST', 'k')).toBe(1);
    expect(node.records.get('k')).toMatchObject({ expiresAt: 0 });
    expect(await node.send('TTL', 'k')).toBe(-1);
    expect(node.value('k')).toBe('v');
    expect(await node.send('PERSIST', 'k')).toBe(0);
    expect(await node.send('PERSIST', 'missing')).toBe(0);
    node.set('expired', 'v', NOW - 1);
    expect(await node.send('PERSIST', 'expired')).toBe(0);
    expect(node.calls.filter((c) => c.op === 'write')).toHaveLength(1);
  });

  it('takes W, and refuses bad input', async () => {
    node.set('k', 'v', NOW + 5000);
    expect(await node.send('PERSIST', 'k', 'W', '1')).toBe(1);
    expect(node.calls.at(-1)).toMatchObject({ op: 'write', w: 1 });
    expect(await node.send('PERSIST')).toBe(
      "WRONGARGS wrong number of arguments for 'PERSIST': PERSIST key [W n]",
    );
    expect(await node.send('PERSIST', 'a', 'b')).toBe('WRONGARGS PERSIST key [W n]');
    expect(await node.send('PERSIST', 'k', 'W', 'x')).toBe(
      "WRONGARGS W must be an integer ≥ 1, got 'x'",
    );
  });
});
