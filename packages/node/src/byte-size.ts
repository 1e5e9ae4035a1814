/** Multipliers of the size units, as Redis reads them: `k` is 1000, `kb` is 1024. */
const UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: 1000,
  kb: 1024,
  m: 1000 ** 2,
  mb: 1024 ** 2,
  g: 1000 ** 3,
  gb: 1024 ** 3,
  t: 1000 ** 4,
  tb: 1024 ** 4,
};

/**
 * Reads a size in bytes as operators write it: `1073741824`, `64mb`, `1gb`, `512kb`, units
 * in any case (`k`, `m`, `g`, `t` are powers of 1000, `kb`, `mb`, `gb`, `tb` of 1024, as in
 * Redis). Returns undefined for anything else, a fraction or a size past 2^53 bytes.
 */
export function parseByteSize(text: string): number | undefined {
  const match = /^(\d{1,16})\s*([a-z]{0,2})$/i.exec(text.trim());
  if (!match) return undefined;
  const unit = UNITS[(match[2] as string).toLowerCase()];
  if (unit === undefined) return undefined;
  const bytes = Number(match[1]) * unit;
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** `67108864` → `64mb`: the largest binary unit that divides the size, for messages. */
export function formatByteSize(bytes: number): string {
  for (const [unit, size] of [
    ['tb', 1024 ** 4],
    ['gb', 1024 ** 3],
    ['mb', 1024 ** 2],
    ['kb', 1024],
  ] as const)
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  return `${bytes} bytes`;
}
