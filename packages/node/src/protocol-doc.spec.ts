import { Scope, docSection, renderCommandTable } from '@kv/protocol';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createNodeRouter } from './node-commands';

describe('docs/protocol.md', () => {
  const doc = readFileSync(join(__dirname, '../../../docs/protocol.md'), 'utf8');
  const { commands } = createNodeRouter();

  it('lists the node commands as declared (if not: node tools/protocol-doc.cjs)', () => {
    expect(docSection(doc, 'node')).toBe(renderCommandTable(commands, [Scope.client, Scope.admin]));
  });

  it('lists the node-to-node commands as declared (if not: node tools/protocol-doc.cjs)', () => {
    expect(docSection(doc, 'node-peer')).toBe(renderCommandTable(commands, [Scope.peer]));
  });
});
