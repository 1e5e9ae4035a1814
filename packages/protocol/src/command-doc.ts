import { Access, Scope, type RoutedCommand } from './command';

const HEADER = ['command', 'scope', 'reply', 'errors'];
const SCOPES: readonly Scope[] = [Scope.client, Scope.admin, Scope.peer];

function commandCell({ spec }: RoutedCommand<unknown>): string {
  const aliases = spec.aliases?.length
    ? `, alias ${spec.aliases.map((a) => `\`${a}\``).join(', ')}`
    : '';
  return `\`${spec.usage}\`${aliases}`;
}

/** The scope, and for a client command what a user needs to run it (`client, read`). */
function scopeCell({ spec }: RoutedCommand<unknown>): string {
  return spec.scope === Scope.client ? `client, ${spec.access ?? Access.write}` : spec.scope;
}

/**
 * The Markdown table of `commands` (usage and aliases, scope, reply, errors), grouped by
 * scope in the order of `scopes`, each in declaration order. Columns are padded as
 * Prettier pads them, so a formatted document keeps the table byte for byte.
 */
export function renderCommandTable(
  commands: readonly RoutedCommand<unknown>[],
  scopes: readonly Scope[] = SCOPES,
): string {
  const rows = scopes
    .flatMap((scope) => commands.filter((c) => c.spec.scope === scope))
    .map((c) =>
      [commandCell(c), scopeCell(c), c.spec.reply, c.spec.errors ?? ''].map((cell) =>
        // A bare | would end the cell, even inside a code span.
        cell.replaceAll('|', '\\|'),
      ),
    );
  const widths = HEADER.map((_, i) =>
    Math.max(3, ...[HEADER, ...rows].map((row) => (row[i] as string).length)),
  );
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((cell, i) => cell.padEnd(widths[i] as number)).join(' | ')} |`;
  const rule = `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`;
  return [line(HEADER), rule, ...rows.map(line)].join('\n');
}

function markers(name: string): [start: string, end: string] {
  return [`<!-- commands:${name} -->`, `<!-- /commands:${name} -->`];
}

/** The text between `<!-- commands:name -->` and `<!-- /commands:name -->`, trimmed; undefined without them. */
export function docSection(doc: string, name: string): string | undefined {
  const [start, end] = markers(name);
  const i = doc.indexOf(start);
  const j = doc.indexOf(end, i);
  return i === -1 || j === -1 ? undefined : doc.slice(i + start.length, j).trim();
}

/**
 * `doc` with the text between the markers of section `name` replaced by `content`.
 * @throws Error when `doc` lacks the markers
 */
export function replaceDocSection(doc: string, name: string, content: string): string {
  const [start, end] = markers(name);
  const i = doc.indexOf(start);
  const j = doc.indexOf(end, i);
  if (i === -1 || j === -1) throw new Error(`no ${start} ... ${end} section`);
  return `${doc.slice(0, i + start.length)}\n\n${content.trim()}\n\n${doc.slice(j)}`;
}
