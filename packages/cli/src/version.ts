import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The version of this package, from its package.json (beside `src/` and `dist/`). */
export function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as {
      version?: unknown;
    };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}
