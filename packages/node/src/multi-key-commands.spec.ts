import { MAX_KEYS_PER_COMMAND } from './command-args';
import { FakeNode, NOW } from './test-support/command-context';

let node: FakeNode;

beforeEach(() => {
  node = new FakeNode();
});

const keys = (n: number, prefix = 'k'): string[] =>
  Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe('MGET', () => {
  it('answers each key in order, null for a missing, deleted or expired one', async () => {
    node.set('a', 'A');
    node.set('b', 'B', NOW + 1);
    node.set('deleted', null);
    node.set('expired', 'E', NOW);
    const reply = await node.send('MGET', 'a', 'missing', 'deleted', 'expired', 'b', 'a');
    expect((reply as (Buffer | null)[]).map((v) => v?.toString() ?? null)).toEqual([
      'A',
      null,
      null,
      null,
      'B',
      'A',
    ]);
    expect(node.calls.map((c) => c.op)).toEqual(Array(6).fill('read'));
  });

  it('takes every argument for a key, R included: no in-band quorum to mistake a key for', async () => {
    node.set('R', 'r');
    const reply = await node.send('mget', 'a', 'R', '3');
    expect((reply as (Buffer | null)[]).map((v) => v?.toString() ?? null)).toEqual([
      null,
      'r',
      null,
    ]);
    expect(node.calls).toEqual([
      { op: 'read', key: 'a', r: undefined },
      { op: 'read', key: 'R', r: undefined },
      { op: 'read', key: '3', r: undefined },
    ]);
  });

  it('fails as a whole, naming the keys that could not be read, once every read is over', async () => {
    node.set('a', 'A');
    for (const key of ['b', 'd']) node.failing.add(key);
    expect(await node.send('MGET', 'a', 'b', 'c', 'd')).toBe(
      "UNAVAILABLE MGET read 2 of 4 keys; failed: 'b' (UNAVAILABLE 1 of 2 replicas answered), 'd' (UNAVAILABLE 1 of 2 replicas answered): nothing is answered, retry",
    );
    expect(node.calls).toHaveLength(4);
  });

  it('names at most 8 failed keys and counts the rest', async () => {
    for (const key of keys(20)) node.failing.add(key);
    const reply = String(await node.send('MGET', ...keys(20)));
    expect(reply).toMatch(
      /^UNAVAILABLE MGET read 0 of 20 keys; failed: 'k0' \(.*'k7' \(UNAVAILABLE 1 of 2 replicas answered\) and 12 more: nothing/,
    );
    expect(reply).not.toContain("'k8'");
  });

  it(`refuses no key, more than ${MAX_KEYS_PER_COMMAND} keys and a key too large, reading nothing`, async () => {
    expect(await node.send('MGET')).toBe(
      "WRONGARGS wrong number of arguments for 'MGET': MGET key [key ...]",
    );
    expect(await node.send('MGET', ...keys(MAX_KEYS_PER_COMMAND + 1))).toBe(
      'TOOLARGE MGET names 1025 keys, at most 1024 per command: send them in batches',
    );
    expect(await node.send('MGET', 'a', 'k'.repeat(17))).toBe(
      'TOOLARGE key of 17 bytes exceeds the limit of 16 bytes',
    );
    expect(node.calls).toEqual([]);
    const all = await node.send('MGET', ...keys(MAX_KEYS_PER_COMMAND));
    expect(all).toEqual(Array(MAX_KEYS_PER_COMMAND).fill(null));
  });
});

describe('MSET', () => {
  it("writes every key with its own quorum write, the node's W", async () => {
    expect(String(await node.send('MSET', 'a', '1', 'b', '2', 'a', '3'))).toBe('OK');
    expect(node.calls).toEqual([
      { op: 'write', key: 'a', value: '1', expiresAt: 0, w: undefined },
      { op: 'write', key: 'b', value: '2', expiresAt: 0, w: undefined },
      { op: 'write', key: 'a', value: '3', expiresAt: 0, w: undefined },
    ]);
    expect(node.value('b')).toBe('2');
    // A last pair W n is a key and its value, not an option: a write of the key W is kept.
    expect(String(await node.send('mset', 'c', 'x', 'W', '3'))).toBe('OK');
    expect(node.calls.slice(-2)).toEqual([
      { op: 'write', key: 'c', value: 'x', expiresAt: 0, w: undefined },
      { op: 'write', key: 'W', value: '3', expiresAt: 0, w: undefined },
    ]);
    expect(node.value('W')).toBe('3');
  });

  it('drops an expiry the key had, as SET does', async () => {
    node.set('a', 'old', NOW + 5000);
    await node.send('MSET', 'a', 'new');
    expect(await node.send('TTL', 'a')).toBe(-1);
  });

  it('reports how many keys were written and which failed, keeping those written', async () => {
    node.failing.add('b');
    expect(await node.send('MSET', 'a', '1', 'b', '2', 'c', '3')).toBe(
      "UNAVAILABLE MSET wrote 2 of 3 keys; failed: 'b' (UNAVAILABLE 1 of 2 replicas acknowledged): the keys written stay written (MSET is not atomic), a failed one may stand on the replicas that acknowledged it",
    );
    expect([node.value('a'), node.value('b'), node.value('c')]).toEqual(['1', undefined, '3']);
  });

  it('refuses a key without a value, too many keys and a key too large, writing nothing', async () => {
    const errors: [string[], string][] = [
      [
        ['MSET', 'a'],
        "WRONGARGS wrong number of arguments for 'MSET': MSET key value [key value ...]",
      ],
      [
        ['MSET', 'a', '1', 'b'],
        'WRONGARGS MSET key value [key value ...]: every key needs a value',
      ],
      [['MSET', 'k'.repeat(17), '1'], 'TOOLARGE key of 17 bytes exceeds the limit of 16 bytes'],
      [
        ['MSET', ...keys(MAX_KEYS_PER_COMMAND + 1).flatMap((k) => [k, 'v'])],
        'TOOLARGE MSET names 1025 keys, at most 1024 per command: send them in batches',
      ],
    ];
    for (const [args, error] of errors)
      expect([args.slice(0, 5), await node.send(...args)]).toEqual([args.slice(0, 5), error]);
    node.outOfMemory = true;
    expect(await node.send('MSET', 'a', '1')).toMatch(/^OOM/);
    expect(node.calls).toEqual([]);
  });
});
