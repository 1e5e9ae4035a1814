'use strict';
// Rendering of a suite result: { headers: string[], rows: string[][], summary?: string[], notes?: string }

function renderTable({ headers, rows, summary = [] }) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => String(c).padEnd(widths[i])).join('  ');
  const out = [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
  return [...out, ...summary].map((l) => `   ${l}`).join('\n') + '\n';
}

function renderMarkdown(suite, { headers, rows, summary = [], notes }, { machine, date }) {
  const md = [`## ${suite.title}`, '', `Measured ${date} on ${machine}.`, ''];
  if (suite.description) md.push(suite.description, '');
  md.push(`| ${headers.join(' | ')} |`, `|${headers.map(() => '---').join('|')}|`);
  for (const r of rows) md.push(`| ${r.join(' | ')} |`);
  if (summary.length > 0) md.push('', ...summary.map((s) => `- ${s}`));
  if (notes) md.push('', notes);
  return md.join('\n');
}

/** Formats an operations-per-second figure with thousands separators. */
function opsPerSec(n) {
  return `${Math.round(n).toLocaleString('en-US')}/s`;
}

/** Runs fn repeatedly for about `ms` milliseconds and returns calls per second. */
function measure(fn, ms = 1000) {
  for (let i = 0; i < 1000; i++) fn(i); // warm up
  let calls = 0;
  const start = process.hrtime.bigint();
  const budget = BigInt(ms) * 1000000n;
  let elapsed = 0n;
  while (elapsed < budget) {
    for (let i = 0; i < 1000; i++) fn(calls + i);
    calls += 1000;
    elapsed = process.hrtime.bigint() - start;
  }
  return calls / (Number(elapsed) / 1e9);
}

module.exports = { renderTable, renderMarkdown, opsPerSec, measure };
