import { Scope, type CommandTable } from './command';
import { docSection, renderCommandTable, replaceDocSection } from './command-doc';
import { CommandRouter } from './router';

const TABLE: CommandTable<unknown> = {
  PUT: {
    scope: Scope.client,
    arity: [2, 4],
    usage: 'PUT key value [EX seconds|PX milliseconds]',
    aliases: ['SET'],
    reply: '`+OK`',
    errors: '`-TOOLARGE` for a key over 4 KiB',
    run: () => null,
  },
  SYNC: { scope: Scope.peer, arity: [0, 0], usage: 'SYNC', reply: 'bulk', run: () => null },
  LEAVE: { scope: Scope.admin, arity: [0, 0], usage: 'LEAVE', reply: '`+OK`', run: () => null },
};

describe('renderCommandTable', () => {
  const { commands } = new CommandRouter(TABLE);
  const own = commands.filter((c) => c.name in TABLE);

  it('renders usage, aliases, scope, reply and errors, padded and escaped', () => {
    expect(renderCommandTable(own).split('\n')).toEqual([
      '| command                                                    | scope         | reply | errors                           |',
      '| ---------------------------------------------------------- | ------------- | ----- | -------------------------------- |',
      '| `PUT key value [EX seconds\\|PX milliseconds]`, alias `SET` | client, write | `+OK` | `-TOOLARGE` for a key over 4 KiB |',
      '| `LEAVE`                                                    | admin         | `+OK` |                                  |',
      '| `SYNC`                                                     | peer          | bulk  |                                  |',
    ]);
  });

  it('keeps the scopes asked, in the order asked', () => {
    expect(renderCommandTable(own, [Scope.peer, Scope.admin]).split('\n').slice(2)).toEqual([
      '| `SYNC`  | peer  | bulk  |        |',
      '| `LEAVE` | admin | `+OK` |        |',
    ]);
    expect(renderCommandTable(commands, [Scope.client])).toContain('`HELP [command]`');
  });
});

describe('doc sections', () => {
  const doc = 'intro\n\n<!-- commands:node -->\n\nold\n\n<!-- /commands:node -->\n\nafter\n';

  it('reads and replaces the text between the markers', () => {
    expect(docSection(doc, 'node')).toBe('old');
    const updated = replaceDocSection(doc, 'node', '| a |\n');
    expect(updated).toBe(
      'intro\n\n<!-- commands:node -->\n\n| a |\n\n<!-- /commands:node -->\n\nafter\n',
    );
    expect(docSection(updated, 'node')).toBe('| a |');
  });

  it('says when a section is missing', () => {
    expect(docSection(doc, 'coordinator')).toBeUndefined();
    expect(() => replaceDocSection(doc, 'coordinator', 'x')).toThrow(
      'no <!-- commands:coordinator --> ... <!-- /commands:coordinator --> section',
    );
  });
});
