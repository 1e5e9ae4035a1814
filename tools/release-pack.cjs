#!/usr/bin/env node
// Packs the published packages into release tarballs (`npm run release:pack` builds first):
//   npm run release:pack                   -> dist/release/kv-<package>-<version>.tgz
//   npm run release:pack -- --out <dir>    -> <dir>/...
// Each tarball is checked to hold its built code; then the install command is printed.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const PACKAGES = ['protocol', 'ring', 'coordinator', 'node', 'client', 'cli'];

const at = process.argv.indexOf('--out');
const out = path.resolve(
  at === -1 ? path.join(root, 'dist', 'release') : (process.argv[at + 1] ?? ''),
);
if (at !== -1 && process.argv[at + 1] === undefined) {
  process.stderr.write('release-pack: --out needs a directory\n');
  process.exit(2);
}
fs.mkdirSync(out, { recursive: true });

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const tarballs = [];
for (const name of PACKAGES) {
  const dir = path.join(root, 'packages', name);
  const json = execFileSync(npm, ['pack', '--json', '--pack-destination', out], {
    cwd: dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // npm may print lifecycle output before the JSON.
  const [packed] = JSON.parse(json.slice(json.indexOf('[')));
  const files = new Set(packed.files.map((f) => f.path));
  const missing = ['dist/index.js', 'dist/index.d.ts'].filter((f) => !files.has(f));
  if (missing.length > 0) {
    process.stderr.write(`release-pack: ${packed.filename} lacks ${missing.join(', ')}\n`);
    process.exit(1);
  }
  tarballs.push(path.join(out, packed.filename));
  process.stdout.write(`${packed.name}@${packed.version}: ${path.join(out, packed.filename)}\n`);
}
process.stdout.write(
  `\nInstall them into a project (all six, one command):\n  npm install ${tarballs.join(' ')}\n`,
);
