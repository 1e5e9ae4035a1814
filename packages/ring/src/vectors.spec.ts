import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { vnodeCount } from './layout';
import { Ring } from './ring';
import { referenceRing } from './test-support/reference';
import { token } from './token';

// The test vectors are the ones published in docs/ring.md, read from there so the page and
// the code cannot drift apart.
const doc = readFileSync(join(__dirname, '../../../docs/ring.md'), 'utf8');

interface VectorSet {
  title: string;
  ring: unknown;
  rows: string[][];
}

function vectorSets(markdown: string): VectorSet[] {
  const section = markdown.split(/^## Test vectors$/m)[1] ?? '';
  return section
    .split(/^### /m)
    .slice(1)
    .map((part) => {
      const json = /```json\n([\s\S]*?)```/.exec(part)?.[1];
      if (json === undefined) throw new Error('vector set without a json block');
      const rows = part
        .split('\n')
        .filter((line) => line.startsWith('| `'))
        .map((line) =>
          line
            .slice(1, -1)
            .split(' | ')
            .map((cell) => cell.trim().replace(/^`|`$/g, '')),
        );
      return { title: part.split('\n')[0] ?? '', ring: JSON.parse(json) as unknown, rows };
    });
}

const sets = vectorSets(doc);

it('docs/ring.md has the test vector sets', () => {
  expect(sets.map((s) => s.title)).toEqual([
    'Set A: five members, two zones, V = 16',
    'Set B: a token tie',
  ]);
  expect(sets[0]?.rows.filter((r) => r.length === 4 && r[1]?.length === 12)).toHaveLength(20);
});

describe.each(sets)('$title', ({ ring: json, rows }) => {
  const ring = Ring.fromJSON(json);
  const reference = referenceRing(ring.members, ring.options.vnodesPerWeight);
  const ownership = new Map(ring.ownership().map((o) => [o.id, o]));

  it('round-trips its JSON', () => {
    expect(ring.toJSON()).toEqual(json);
  });

  it.each(rows.map((r) => [r[0] ?? '', r] as const))('matches row %s', (_, row) => {
    const first = JSON.parse(row[0] ?? '') as string;
    if (row.length === 2) {
      // vnode string | token
      expect(hex(token(first))).toBe(row[1]);
    } else if (/^\d+$/.test(row[1] ?? '')) {
      // member | vnodes | primary share | replica share
      const member = ring.member(first);
      expect(member).toBeDefined();
      expect(String(vnodeCount(member?.weight ?? 0, ring.options.vnodesPerWeight))).toBe(row[1]);
      expect(ownership.get(first)?.primary.toFixed(6)).toBe(row[2]);
      expect(ownership.get(first)?.replica.toFixed(6)).toBe(row[3]);
    } else {
      // key | token | preference list | full order
      const list = JSON.parse(row[2] ?? '') as string[];
      const order = JSON.parse(row[3] ?? '') as string[];
      expect(hex(token(first))).toBe(row[1]);
      expect(ring.preferenceList(first)).toEqual(list);
      expect(ring.preferenceList(first, ring.size)).toEqual(order);
      expect(reference(first, ring.size)).toEqual(order);
    }
  });
});

function hex(t: number): string {
  return t.toString(16).padStart(12, '0');
}
