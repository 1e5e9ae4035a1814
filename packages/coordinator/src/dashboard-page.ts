/**
 * The dashboard: one self-contained page (no framework, nothing fetched but the
 * coordinator's own `/api/*`, so it works offline). It polls `/api/cluster` twice a second
 * and redraws: the ring as a circle of slices coloured by primary with a band in the
 * owner's state colour, a node table, progress bars while data moves, and the replicas of
 * a key typed in. Every text from the cluster goes in through `textContent`.
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>kv cluster</title>
<style>
  :root { --up: #2e9d4f; --probation: #d4a017; --joining: #2f6fd6; --leaving: #e07b24; --dead: #c62828; }
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1d2330; background: #f5f6f8; }
  header { background: #1d2330; color: #fff; padding: 10px 20px; display: flex; gap: 24px; align-items: baseline; }
  header h1 { font-size: 18px; margin: 0; }
  #status.stale { color: #ff8a80; }
  main { display: grid; grid-template-columns: 380px minmax(0, 1fr); gap: 20px; padding: 20px; }
  section { background: #fff; border-radius: 6px; padding: 14px 16px; box-shadow: 0 1px 2px #0002; overflow-x: auto; }
  section + section { margin-top: 20px; }
  h2 { font-size: 14px; margin: 0 0 10px; text-transform: uppercase; letter-spacing: .04em; color: #5a6372; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: right; padding: 4px 8px; border-bottom: 1px solid #eceef2; white-space: nowrap; }
  th:first-child, td:first-child, td.state, th.state { text-align: left; }
  .dot { display: inline-block; width: 10px; height: 10px; border-radius: 50%; margin-right: 6px; vertical-align: middle; }
  .bar { background: #eceef2; border-radius: 4px; height: 14px; overflow: hidden; }
  .bar > div { background: var(--joining); height: 100%; transition: width .3s; }
  .progress { margin: 8px 0; }
  .progress[data-active="false"] .bar > div { background: var(--up); }
  #legend div { margin: 2px 0; }
  #replicas li { margin: 2px 0; }
  input { font: inherit; padding: 4px 8px; width: 100%; box-sizing: border-box; }
  .muted { color: #8a93a3; }
  td.alert { color: #c62828; font-weight: 600; }
</style>
</head>
<body>
<header><h1>kv cluster</h1><span id="epoch"></span><span id="status">connecting…</span></header>
<main>
  <div>
    <section id="ring-section">
      <h2>Ring</h2>
      <svg id="ring" viewBox="-110 -110 220 220" width="340" height="340" role="img" aria-label="token ring"></svg>
      <div id="legend"></div>
    </section>
    <section>
      <h2>Replicas of a key</h2>
      <input id="key" placeholder="type a key, e.g. user:1" autocomplete="off">
      <ol id="replicas"></ol>
    </section>
  </div>
  <div>
    <section>
      <h2>Nodes</h2>
      <table id="nodes">
        <thead><tr><th>node</th><th class="state">state</th><th>share</th><th>keys</th><th>ops/s</th><th>p99 ms</th><th>memory</th><th title="storage: memory, or the fsync mode and the p99 of the write-ahead log's syncs">disk</th><th>sync</th><th>heartbeat</th></tr></thead>
        <tbody></tbody>
      </table>
    </section>
    <section>
      <h2>Rebalancing</h2>
      <div id="rebalance"><span class="muted">no data moving</span></div>
    </section>
  </div>
</main>
<script>
"use strict";
const SVG = "http://www.w3.org/2000/svg";
const STATES = ["up", "probation", "joining", "leaving", "dead"];
const PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#edc948", "#76b7b2", "#ff9da7", "#9c755f", "#e15759", "#bab0ac"];
const colours = new Map();
let view = null;
let keyToken = null;

function colourOf(id) {
  if (!colours.has(id)) colours.set(id, PALETTE[colours.size % PALETTE.length]);
  return colours.get(id);
}
function stateColour(state) {
  return "var(--" + (STATES.includes(state) ? state : "dead") + ")";
}
function el(tag, attrs, text) {
  const node = tag.startsWith("svg:") ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}
function arc(r0, r1, a0, a1) {
  const p = (r, a) => (r * Math.sin(a)).toFixed(2) + " " + (-r * Math.cos(a)).toFixed(2);
  const large = a1 - a0 > Math.PI ? 1 : 0;
  return "M" + p(r1, a0) + " A" + r1 + " " + r1 + " 0 " + large + " 1 " + p(r1, a1) +
    " L" + p(r0, a1) + " A" + r0 + " " + r0 + " 0 " + large + " 0 " + p(r0, a0) + " Z";
}
function bytes(n) {
  if (n === null || n === undefined) return "–";
  const units = ["B", "KiB", "MiB", "GiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return n.toFixed(i ? 1 : 0) + " " + units[i];
}
function num(n, digits) {
  return n === null || n === undefined ? "–" : Number(n).toFixed(digits || 0);
}

function drawRing() {
  const svg = document.getElementById("ring");
  svg.replaceChildren();
  const byId = new Map(view.members.map((m) => [m.id, m]));
  const n = view.slices.length;
  // Consecutive slices of one owner are drawn as one arc.
  for (let start = 0; start < n; ) {
    let end = start + 1;
    while (end < n && view.slices[end] === view.slices[start]) end++;
    const id = view.ringMembers[view.slices[start]];
    const member = byId.get(id);
    const a0 = (2 * Math.PI * start) / n, a1 = (2 * Math.PI * end) / n;
    if (id !== undefined) {
      svg.append(el("svg:path", { d: arc(62, 92, a0, a1), fill: colourOf(id), "data-owner": id }));
      svg.append(el("svg:path", { d: arc(94, 100, a0, a1), fill: stateColour(member ? member.state : "dead"), "data-state-band": id }));
    }
    start = end;
  }
  if (view.slices.every((s) => s < 0)) svg.append(el("svg:text", { "text-anchor": "middle", y: 4 }, "no members"));
  svg.append(el("svg:text", { "text-anchor": "middle", y: -4, "font-size": 14, "font-weight": 600 }, view.ringMembers.length + " in ring"));
  svg.append(el("svg:text", { "text-anchor": "middle", y: 14, "font-size": 10, fill: "#5a6372" }, "epoch " + view.epoch + ", N=" + view.replicationFactor));
  if (keyToken !== null) {
    const a = 2 * Math.PI * keyToken;
    svg.append(el("svg:line", { x1: 0, y1: 0, x2: (104 * Math.sin(a)).toFixed(2), y2: (-104 * Math.cos(a)).toFixed(2), stroke: "#1d2330", "stroke-width": 1.5, id: "key-marker" }));
  }
  const legend = document.getElementById("legend");
  legend.replaceChildren(...view.members.filter((m) => m.state !== "dead").map((m) => {
    const row = el("div", { "data-id": m.id });
    row.append(el("span", { class: "dot", style: "background:" + colourOf(m.id) }));
    row.append(document.createTextNode(m.id + " — " + (100 * m.primaryShare).toFixed(1) + "% primary, " + m.state));
    return row;
  }));
}

function drawNodes() {
  const body = document.querySelector("#nodes tbody");
  body.replaceChildren(...view.members.map((m) => {
    const s = m.stats;
    const tr = el("tr", { "data-id": m.id, "data-state": m.state });
    const name = el("td");
    name.append(el("span", { class: "dot", style: "background:" + colourOf(m.id) }), document.createTextNode(m.id));
    const state = el("td", { class: "state" });
    state.append(el("span", { class: "dot", style: "background:" + stateColour(m.state) }), document.createTextNode(m.state));
    const sync = s && s.reachable
      ? (s.phase || "?") + (s.syncPeersPending + s.unsyncedRanges + s.handoffPending > 0 ? " (syncing)" : "")
      : (m.state === "dead" ? "–" : "unreachable");
    tr.append(name, state,
      el("td", {}, (100 * m.primaryShare).toFixed(1) + "%"),
      el("td", {}, s ? num(s.keys) : "–"),
      el("td", {}, s ? num(s.opsPerSec) : "–"),
      el("td", {}, s ? num(s.p99Ms, 2) : "–"),
      el("td", {}, s ? bytes(s.memoryBytes) : "–"),
      disk(s),
      el("td", {}, sync),
      el("td", {}, (m.heartbeatAgeMs / 1000).toFixed(1) + " s"));
    return tr;
  }));
}

// "memory", or the fsync mode of a node with a data directory and, under always, its
// write-ahead log's sync p99; "cannot commit" for a full or failing disk.
function disk(s) {
  if (!s || !s.engine) return el("td", {}, "–");
  if (s.commitsFailing) return el("td", { class: "alert", "data-commits-failing": "true" }, "cannot commit");
  if (!s.fsync) return el("td", {}, s.engine);
  const p99 = s.logSyncP99Ms === null ? "" : " · " + num(s.logSyncP99Ms, 2) + " ms";
  return el("td", { title: s.engine + ", fsync " + s.fsync + (p99 && ", write-ahead log sync p99" + p99) }, s.fsync + p99);
}

function drawRebalance() {
  const box = document.getElementById("rebalance");
  const moving = view.members.filter((m) => m.rebalance);
  if (moving.length === 0) {
    box.replaceChildren(el("span", { class: "muted" }, "no data moving"));
    return;
  }
  box.replaceChildren(...moving.map((m) => {
    const pct = Math.round(100 * m.rebalance.fraction);
    const row = el("div", { class: "progress", "data-id": m.id, "data-active": m.rebalance.active, "data-percent": pct });
    row.append(el("div", {}, m.id + " (" + m.state + "): " + (m.rebalance.active ? pct + "%" : "complete")));
    const bar = el("div", { class: "bar" });
    bar.append(el("div", { style: "width:" + pct + "%" }));
    row.append(bar);
    return row;
  }));
}

async function refresh() {
  const status = document.getElementById("status");
  try {
    const res = await fetch("api/cluster", { cache: "no-store" });
    if (!res.ok) throw new Error("HTTP " + res.status);
    const previous = view;
    view = await res.json();
    // The replicas shown follow the ring: look the key up again when the epoch moves.
    if (previous && previous.epoch !== view.epoch) void lookUp();
    document.getElementById("epoch").textContent = "epoch " + view.epoch;
    status.textContent = "updated " + new Date().toLocaleTimeString();
    status.className = "";
    drawRing();
    drawNodes();
    drawRebalance();
  } catch (err) {
    status.textContent = "coordinator unreachable (" + err.message + "), retrying";
    status.className = "stale";
  }
}

async function lookUp() {
  const key = document.getElementById("key").value;
  const list = document.getElementById("replicas");
  if (key === "") { list.replaceChildren(); keyToken = null; if (view) drawRing(); return; }
  const res = await fetch("api/key?key=" + encodeURIComponent(key), { cache: "no-store" });
  const answer = await res.json();
  if (document.getElementById("key").value !== key) return;
  keyToken = parseInt(answer.token, 16) / 2 ** 48;
  list.replaceChildren(...answer.replicas.map((id, i) => {
    const li = el("li", { "data-id": id });
    li.append(el("span", { class: "dot", style: "background:" + colourOf(id) }), document.createTextNode(id + (i === 0 ? " (primary)" : "")));
    return li;
  }));
  if (view) drawRing();
}

document.getElementById("key").addEventListener("input", () => void lookUp());
refresh();
setInterval(refresh, 500);
</script>
</body>
</html>
`;
