'use strict';
// What one membership change costs a ring of `members` members: building the new ring whole
// (what every change cost before rings were derived) against deriving it from the old one.
// CPU time (process.cpuUsage), so other processes on the machine distort it less than wall time.
const { Ring } = require('@kv/ring');

/** Member `i` of a cluster of separate machines. */
const memberId = (i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:5001`;

function cpuMs(fn) {
  const before = process.cpuUsage();
  const result = fn();
  const used = process.cpuUsage(before);
  return [result, (used.user + used.system) / 1000];
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/**
 * @returns {{ vnodes: number, bytes: number, wholeMs: number, joinMs: number, leaveMs: number }}
 *   `bytes`: the ring's lookup arrays (tokens, precomputed lists, members' cached tokens)
 */
function ringChangeCost(members, vnodesPerWeight, trials = 5) {
  const ids = Array.from({ length: members }, (_, i) => memberId(i));
  const [ring, wholeMs] = cpuMs(() => new Ring(ids, { vnodesPerWeight }));
  const joins = [];
  const leaves = [];
  for (let k = 0; k < trials; k++) {
    const [joined, join] = cpuMs(() => ring.add(memberId(members + k)));
    joins.push(join);
    leaves.push(cpuMs(() => joined.remove(ids[k * 7]))[1]);
  }
  const table = ring.vnodes;
  return {
    vnodes: ring.vnodeCount,
    bytes: table.tokens.byteLength * 2 + table.table.byteLength,
    wholeMs,
    joinMs: median(joins),
    leaveMs: median(leaves),
  };
}

module.exports = { ringChangeCost, memberId };
