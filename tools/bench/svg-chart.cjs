'use strict';
// A small horizontal bar chart as SVG text, for figures in docs/: one panel per measure,
// one bar per row, each panel scaled to its own largest value.

const ROW = 26;
const LABEL_WIDTH = 230;
const PANEL_WIDTH = 260;
const GAP = 40;
const TOP = 56;
const COLOURS = ['#3b6ea8', '#c0643a'];

const escape = (text) =>
  String(text).replace(
    /[&<>"]/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c],
  );

/**
 * @param title - the chart's heading
 * @param labels - one per row
 * @param panels - [{ title, values: number[] (one per row), format: (n) => string }]
 */
function barChart({ title, labels, panels }) {
  const width = LABEL_WIDTH + panels.length * (PANEL_WIDTH + GAP);
  const height = TOP + labels.length * ROW + 16;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="10" y="20" font-size="15" font-weight="bold">${escape(title)}</text>`,
  ];
  labels.forEach((label, i) => {
    out.push(`<text x="10" y="${TOP + i * ROW + 16}">${escape(label)}</text>`);
  });
  panels.forEach((panel, p) => {
    const x0 = LABEL_WIDTH + p * (PANEL_WIDTH + GAP);
    const max = Math.max(...panel.values, 1e-9);
    out.push(`<text x="${x0}" y="${TOP - 12}" font-weight="bold">${escape(panel.title)}</text>`);
    panel.values.forEach((value, i) => {
      const w = Math.max(1, Math.round((value / max) * (PANEL_WIDTH - 70)));
      const y = TOP + i * ROW + 3;
      out.push(
        `<rect x="${x0}" y="${y}" width="${w}" height="${ROW - 8}" fill="${COLOURS[p % COLOURS.length]}"/>`,
      );
      out.push(`<text x="${x0 + w + 4}" y="${y + 13}">${escape(panel.format(value))}</text>`);
    });
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

module.exports = { barChart };
