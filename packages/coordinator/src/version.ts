import { readFileSync } from 'node:fs';
import { join } from 'node:path';

let cached: string | undefined;

/** The version of this package, read from its package.json (next to `src/` and `dist/`). */
export function version(): string {
  cached ??= readVersion();
  return cached;
}

function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as {
      version?: unknown;
    };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}
