import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The packages whose commands the suite runs. */
export type BinPackage = '@kv/coordinator' | '@kv/node' | '@kv/cli';

/** Root folder of a workspace package. */
export function packageDir(name: string): string {
  return dirname(require.resolve(`${name}/package.json`));
}

/**
 * Absolute path of the built script behind a package's command, read from its package.json
 * `bin` (so the suite runs exactly what users get), e.g. `packages/node/dist/bin.js`.
 */
export function binPath(pkg: BinPackage): string {
  const dir = packageDir(pkg);
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
    bin?: Record<string, string>;
  };
  const relative = Object.values(manifest.bin ?? {})[0];
  if (relative === undefined) throw new Error(`${pkg} declares no bin in its package.json`);
  const path = join(dir, relative);
  if (!existsSync(path)) {
    throw new Error(
      `${path} does not exist: build first (npx nx run-many -t build), or run the suite with npm run test:e2e`,
    );
  }
  return path;
}
