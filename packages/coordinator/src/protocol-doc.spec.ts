import { docSection, renderCommandTable } from '@kv/protocol';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCoordinatorRouter } from './coordinator-commands';

describe('docs/protocol.md', () => {
  it('lists the coordinator commands as declared (if not: node tools/protocol-doc.cjs)', () => {
    const doc = readFileSync(join(__dirname, '../../../docs/protocol.md'), 'utf8');
    expect(docSection(doc, 'coordinator')).toBe(
      renderCommandTable(createCoordinatorRouter().commands),
    );
  });
});
