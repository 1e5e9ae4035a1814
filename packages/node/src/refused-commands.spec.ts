import { Access, Scope } from '@kv/protocol';
import { NODE_COMMANDS } from './node-commands';
import { REFUSED_COMMANDS } from './refused-commands';
import { FakeNode } from './test-support/command-context';

describe('commands refused under last-writer-wins', () => {
  const names = Object.keys(REFUSED_COMMANDS);

  it('are declared as write commands of the client scope, so the docs list them', () => {
    expect(names).toEqual([
      'INCR',
      'DECR',
      'INCRBY',
      'DECRBY',
      'INCRBYFLOAT',
      'APPEND',
      'SETRANGE',
      'GETSET',
      'GETDEL',
      'MSETNX',
    ]);
    for (const name of names)
      expect(NODE_COMMANDS[name]).toMatchObject({ scope: Scope.client, access: Access.write });
  });

  it.each([
    [['INCR', 'counter'], 'ERR INCR is not supported: a counter needs an atomic read-modify-write'],
    [['incrby', 'counter', '5'], 'ERR INCRBY is not supported: a counter needs'],
    [['DECR'], 'ERR DECR is not supported: a counter needs'],
    [['INCRBYFLOAT', 'c', '0.5'], 'ERR INCRBYFLOAT is not supported: a counter needs'],
    [['APPEND', 'k', 'more'], 'ERR APPEND is not supported: changing part of a value needs'],
    [['SETRANGE', 'k', '0', 'x'], 'ERR SETRANGE is not supported: changing part of a value needs'],
    [['GETSET', 'k', 'v'], 'ERR GETSET is not supported: it returns the old value and replaces it'],
    [['GETDEL', 'k'], 'ERR GETDEL is not supported: it returns the old value and replaces it'],
    [['MSETNX', 'a', '1', 'b', '2'], 'ERR MSETNX is not supported: it sets all keys or none'],
  ])('%j answers why, touching nothing', async (args, start) => {
    const node = new FakeNode();
    node.set('k', 'v');
    node.set('counter', '1');
    const reply = String(await node.send(...args));
    expect(reply.startsWith(start)).toBe(true);
    expect(reply).toMatch(/last-writer-wins|replicated on its own/);
    expect(node.calls).toEqual([]);
    expect([node.value('k'), node.value('counter')]).toEqual(['v', '1']);
  });
});
