import { Scope } from '@kv/protocol';
import type { CommandContext } from './command-context';
import { NODE_COMMANDS, createNodeRouter } from './node-commands';
import { fakeConnection } from './test-support/fake-connection';

const connection = fakeConnection();

describe('node commands', () => {
  it('keeps what only nodes send each other apart from what clients and operators send', () => {
    const byScope = (scope: Scope): string[] =>
      Object.entries(NODE_COMMANDS)
        .filter(([, spec]) => spec.scope === scope)
        .map(([name]) => name);
    expect(byScope(Scope.peer)).toEqual([
      'REPLICATE',
      'REPLICATE_BATCH',
      'FETCH',
      'SYNC_DIGEST',
      'SYNC_KEYS',
      'REPLICA_MISSED',
      'SYNC_HINTS',
      'SYNC_GET',
      'SYNC_VERSIONS',
    ]);
    expect(byScope(Scope.admin)).toEqual(['DECOMMISSION', 'BACKUP']);
    expect(byScope(Scope.client)).toContain('GET');
  });

  it('answers HELP from the declarations, aliases and scopes included', () => {
    const router = createNodeRouter();
    const help = (...args: string[]): unknown =>
      router.dispatch(
        args.map((a) => Buffer.from(a)),
        {} as CommandContext,
        connection,
      );
    expect(help('HELP')).toEqual(
      expect.arrayContaining([
        'PUT key value [EX seconds|PX milliseconds|KEEPTTL] [NX|XX] [W n]  (client; alias SET)',
        'DECOMMISSION  (admin)',
        'SYNC_GET key [key ...]  (peer)',
      ]),
    );
    expect(help('help', 'del')).toEqual([
      'DELETE key [key ...] [W n]  (client; alias DEL)',
      'reply: integer: keys that held a value',
      'errors: as PUT; -TOOLARGE for more than 1,024 keys',
    ]);
    // Names answered: the table's, the aliases SET and DEL, then HELP and COMMAND.
    expect(help('COMMAND', 'COUNT')).toBe(Object.keys(NODE_COMMANDS).length + 2 + 2);
  });
});
