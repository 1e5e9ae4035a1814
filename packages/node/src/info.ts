/** One INFO section: a title and its `key:value` fields. */
export interface InfoSection {
  readonly name: string;
  readonly fields: Readonly<Record<string, string | number>>;
}

/**
 * Renders INFO in the Redis layout (`# Section` then `key:value` lines, CRLF, a blank line
 * between sections), which redis-cli and Redis tooling parse. `wanted` filters sections
 * by lower-case name; empty or `all`/`everything` means every section.
 */
export function renderInfo(
  sections: readonly InfoSection[],
  wanted: readonly string[] = [],
): string {
  const all =
    wanted.length === 0 ||
    wanted.includes('all') ||
    wanted.includes('everything') ||
    wanted.includes('default');
  return sections
    .filter((s) => all || wanted.includes(s.name.toLowerCase()))
    .map((s) =>
      [`# ${s.name}`, ...Object.entries(s.fields).map(([k, v]) => `${k}:${v}`)].join('\r\n'),
    )
    .join('\r\n\r\n')
    .concat('\r\n');
}
