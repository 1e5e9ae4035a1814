#!/usr/bin/env node
// Runs the benchmark suites in tools/bench/suites (all, or those named on the command line),
// prints each suite's table and rewrites that suite's section of docs/benchmarks.md.
// Suites run against the built packages, so `npm run bench` builds first.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const prettier = require('prettier');
const { renderTable, renderMarkdown } = require('./report.cjs');

const suitesDir = path.join(__dirname, 'suites');
const docPath = path.join(__dirname, '..', '..', 'docs', 'benchmarks.md');

// A suite's file is named `<order>-<name>.cjs`, so the suites asked for are loaded alone.
const nameOf = (file) => file.replace(/^\d+-/, '').replace(/\.cjs$/, '');

function loadSuites(names) {
  const files = fs
    .readdirSync(suitesDir)
    .filter((f) => f.endsWith('.cjs'))
    .sort();
  const unknown = names.filter((n) => !files.some((f) => nameOf(f) === n));
  if (unknown.length > 0) {
    const known = files.map(nameOf).join(', ');
    throw new Error(`unknown benchmark suite(s) ${unknown.join(', ')}; known: ${known}`);
  }
  return files
    .filter((f) => names.length === 0 || names.includes(nameOf(f)))
    .map((f) => require(path.join(suitesDir, f)));
}

function machineLine() {
  const cpus = os.cpus();
  const model = cpus[0] ? cpus[0].model.trim() : 'unknown CPU';
  return `${cpus.length} cores (${model}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.platform()} ${os.arch()}`;
}

/** Replaces the `<!-- bench:NAME -->` section of the page at `file`, or appends one. */
function replaceSection(doc, name, markdown) {
  const start = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  const block = `${start}\n${markdown.trim()}\n${end}`;
  const i = doc.indexOf(start);
  const j = doc.indexOf(end);
  return i >= 0 && j > i
    ? doc.slice(0, i) + block + doc.slice(j + end.length)
    : `${doc.trimEnd()}\n\n${block}\n`;
}

/**
 * A suite may name more pages of docs/ (`docs: ['scaling.md']`) that carry its section.
 * Unlike benchmarks.md, those pages are held to the repository's format check
 * (`nx format:check`), so each is written formatted.
 */
async function updateOtherDocs(suites, sections) {
  for (const [i, suite] of suites.entries()) {
    for (const page of suite.docs ?? []) {
      const file = path.join(path.dirname(docPath), page);
      const doc = replaceSection(fs.readFileSync(file, 'utf8'), suite.name, sections[i].markdown);
      const options = { ...(await prettier.resolveConfig(file)), filepath: file };
      fs.writeFileSync(file, await prettier.format(doc, options));
      console.log(`wrote ${path.relative(process.cwd(), file)}`);
    }
  }
}

function updateDoc(sections) {
  let doc = fs.existsSync(docPath) ? fs.readFileSync(docPath, 'utf8') : '';
  if (!doc.includes('<!-- bench:')) {
    doc =
      '# Benchmarks\n\n' +
      'Figures below are written by `npm run bench` (tools/bench). Every comparison is measured ' +
      'in one run on one machine, so the ratio is the figure to read; absolute numbers vary ' +
      'between machines.\n';
  }
  for (const { name, markdown } of sections) doc = replaceSection(doc, name, markdown);
  fs.writeFileSync(docPath, doc.endsWith('\n') ? doc : `${doc}\n`);
}

async function main() {
  const names = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const suites = loadSuites(names);
  const machine = machineLine();
  const date = new Date().toISOString().slice(0, 10);
  console.log(`kv benchmarks on ${machine}\n`);
  const sections = [];
  for (const suite of suites) {
    console.log(`== ${suite.title}`);
    const result = await suite.run({ log: (line) => console.log(`   ${line}`) });
    console.log(renderTable(result));
    sections.push({ name: suite.name, markdown: renderMarkdown(suite, result, { machine, date }) });
  }
  updateDoc(sections);
  console.log(`wrote ${path.relative(process.cwd(), docPath)}`);
  await updateOtherDocs(suites, sections);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
