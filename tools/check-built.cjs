#!/usr/bin/env node
// The `prepack` of every published package: refuses to pack a package whose build output
// is missing, so an unbuilt checkout can never produce an empty tarball. Runs in the
// package's folder (npm runs lifecycle scripts there).
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const dir = process.cwd();
const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
const wanted = [manifest.main, manifest.types, ...Object.values(manifest.bin ?? {})].filter(
  (file) => typeof file === 'string',
);
const missing = wanted.filter((file) => !fs.existsSync(path.join(dir, file)));
// A checked-in launcher (bin/kv.js) loads dist/bin.js: that must be built too.
for (const file of Object.values(manifest.bin ?? {})) {
  const launcher = fs.existsSync(path.join(dir, file))
    ? fs.readFileSync(path.join(dir, file), 'utf8')
    : '';
  const loaded = /require\('\.\.\/(dist\/[^']+)'\)/.exec(launcher);
  if (loaded && !fs.existsSync(path.join(dir, loaded[1]))) missing.push(loaded[1]);
}
if (missing.length > 0) {
  process.stderr.write(
    `${manifest.name}: ${missing.join(', ')} missing: the package is not built. ` +
      'Run npm run release:pack at the repository root (it builds, then packs every package), ' +
      'or build first: npx nx run-many -t build\n',
  );
  process.exit(1);
}
