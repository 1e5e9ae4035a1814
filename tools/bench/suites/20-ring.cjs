'use strict';
// @kv/ring: balance of the default vnode count, key movement on membership changes, weights,
// and lookup speed against the npm `hashring` package on the same distinct keys.
const { randomBytes } = require('node:crypto');
const HashRing = require('hashring');
const { Ring, DEFAULT_VNODES_PER_WEIGHT } = require('@kv/ring');
const { measure, opsPerSec } = require('../report.cjs');
const { ringChangeCost } = require('../ring-change.cjs');

const NAME_SETS = 200;
const MOVEMENT_KEYS = 200_000;
const SPEED_KEYS = 1_000_000;
const SPEED_MS = 1000;

const pct = (x) => `${(100 * x).toFixed(2)}%`;
const fixed = (x) => x.toFixed(4);
const met = (ok) => (ok ? 'yes' : 'NO');

/** Ten member names, in the two styles operators use: random host names and host:port. */
function randomNames(set, count = 10) {
  const subnet = randomBytes(1)[0];
  return Array.from({ length: count }, (_, i) =>
    set % 2 === 0
      ? `node-${randomBytes(6).toString('hex')}`
      : `10.${subnet}.${set % 256}.${i}:${5000 + i}`,
  );
}

function median(sorted) {
  return sorted[Math.floor(sorted.length / 2)];
}

/** max/mean and min/mean of the primary shares of 10 equal members, over NAME_SETS name sets. */
function balance(vnodesPerWeight) {
  const maxima = [];
  const minima = [];
  for (let set = 0; set < NAME_SETS; set++) {
    const shares = new Ring(randomNames(set), { vnodesPerWeight })
      .ownership()
      .map((o) => o.primary);
    const mean = 1 / shares.length;
    maxima.push(Math.max(...shares) / mean);
    minima.push(Math.min(...shares) / mean);
  }
  maxima.sort((a, b) => a - b);
  minima.sort((a, b) => a - b);
  return {
    worstMax: maxima[maxima.length - 1],
    medianMax: median(maxima),
    worstMin: minima[0],
    medianMin: median(minima),
  };
}

function movement(keys) {
  const names = Array.from({ length: 10 }, (_, i) => `10.0.0.${i + 1}:5001`);
  const ten = new Ring(names);
  const eleven = ten.add('10.0.0.11:5001');
  let moved = 0;
  let movedToJoiner = 0;
  for (const key of keys) {
    const after = eleven.primary(key);
    if (after !== ten.primary(key)) {
      moved++;
      if (after === '10.0.0.11:5001') movedToJoiner++;
    }
  }
  const leaver = names[3];
  const nine = ten.remove(leaver);
  let removedMoved = 0;
  let removedStray = 0;
  let leaverKeys = 0;
  for (const key of keys) {
    const before = ten.primary(key);
    if (before === leaver) leaverKeys++;
    if (nine.primary(key) !== before) {
      removedMoved++;
      if (before !== leaver) removedStray++;
    }
  }
  const joinerShare = eleven.ownership().find((o) => o.id === '10.0.0.11:5001').primary;
  return {
    moved: moved / keys.length,
    movedToJoiner: moved === 0 ? 1 : movedToJoiner / moved,
    joinerShare,
    removedMoved: removedMoved / keys.length,
    removedStray,
    leaverKeys: leaverKeys / keys.length,
  };
}

/** weight-2 share ÷ (2 × mean weight-1 share), over name sets. */
function weights() {
  const ratios = [];
  for (let set = 0; set < 50; set++) {
    const [heavy, ...light] = randomNames(set);
    const ring = new Ring([{ id: heavy, weight: 2 }, ...light]);
    const shares = ring.ownership();
    const heavyShare = shares.find((o) => o.id === heavy).primary;
    const lightShares = shares.filter((o) => o.id !== heavy).map((o) => o.primary);
    const lightMean = lightShares.reduce((a, b) => a + b, 0) / lightShares.length;
    ratios.push(heavyShare / (2 * lightMean));
  }
  ratios.sort((a, b) => Math.abs(a - 1) - Math.abs(b - 1));
  return { worst: ratios[ratios.length - 1], median: median(ratios) };
}

/** Best of two interleaved runs of each side, to damp GC and frequency noise. */
function compare(ours, theirs) {
  let a = 0;
  let b = 0;
  for (let round = 0; round < 2; round++) {
    a = Math.max(a, measure(ours, SPEED_MS));
    b = Math.max(b, measure(theirs, SPEED_MS));
  }
  return { ours: a, theirs: b, ratio: a / b };
}

module.exports = {
  name: 'ring',
  title: '@kv/ring: balance, movement, weights, lookup speed',
  description:
    `Default vnodes per unit of weight V = ${DEFAULT_VNODES_PER_WEIGHT}. Balance is the primary share of each of 10 ` +
    `equal members divided by the mean, over ${NAME_SETS} random name sets per row. Speed compares against the npm ` +
    '`hashring` package (3.x, `new HashRing(names)`: MD5, 160 points per server) on the same 1,000,000 distinct keys.',
  async run({ log }) {
    const rows = [];
    const results = [];
    const row = (what, measured, target, ok) => {
      rows.push([what, measured, target, ok === undefined ? '—' : met(ok)]);
      if (ok !== undefined) results.push(ok);
    };

    log('balance ...');
    for (const [v, label] of [
      [DEFAULT_VNODES_PER_WEIGHT, `V = ${DEFAULT_VNODES_PER_WEIGHT} (default)`],
      [DEFAULT_VNODES_PER_WEIGHT / 2, `V = ${DEFAULT_VNODES_PER_WEIGHT / 2} (contrast)`],
      [3, 'V = 3 (the original sketch)'],
    ]) {
      const b = balance(v);
      const isDefault = v === DEFAULT_VNODES_PER_WEIGHT;
      row(
        `balance ${label}: max/mean, worst / median`,
        `${fixed(b.worstMax)} / ${fixed(b.medianMax)}`,
        isDefault ? '≤ 1.10' : '—',
        isDefault ? b.worstMax <= 1.1 : undefined,
      );
      row(
        `balance ${label}: min/mean, worst / median`,
        `${fixed(b.worstMin)} / ${fixed(b.medianMin)}`,
        isDefault ? '≥ 0.90' : '—',
        isDefault ? b.worstMin >= 0.9 : undefined,
      );
    }

    log('movement ...');
    const keys = Array.from({ length: MOVEMENT_KEYS }, (_, i) => `movement:${i}`);
    const m = movement(keys);
    row(
      `add an 11th member to 10: keys whose primary moved (joiner's exact share ${pct(m.joinerShare)})`,
      pct(m.moved),
      `≤ ${pct(1.1 / 11)}`,
      m.moved <= 1.1 / 11,
    );
    row(
      'add an 11th member: moved keys that moved onto the new member',
      pct(m.movedToJoiner),
      '100%',
      m.movedToJoiner === 1,
    );
    row(
      `remove 1 of 10 members: keys whose primary moved (its share ${pct(m.leaverKeys)})`,
      pct(m.removedMoved),
      `= its share`,
      m.removedMoved === m.leaverKeys,
    );
    row(
      'remove 1 of 10 members: moved keys that the removed member did not own',
      String(m.removedStray),
      '0',
      m.removedStray === 0,
    );

    log('weights ...');
    const w = weights();
    row(
      'weight 2 vs 9 of weight 1: share ÷ (2 × mean), worst / median of 50 sets',
      `${fixed(w.worst)} / ${fixed(w.median)}`,
      '0.90 .. 1.10',
      w.worst >= 0.9 && w.worst <= 1.1,
    );

    log('ring changes ...');
    for (const [members, v] of [
      [100, DEFAULT_VNODES_PER_WEIGHT],
      [1000, DEFAULT_VNODES_PER_WEIGHT],
      [1000, 256],
      [10000, 256],
    ]) {
      const cost = ringChangeCost(members, v);
      const derived = Math.max(cost.joinMs, cost.leaveMs);
      const target = members === 1000 && v === DEFAULT_VNODES_PER_WEIGHT;
      row(
        `one member joins / leaves ${members.toLocaleString('en-US')} (V = ${v}, ${cost.vnodes.toLocaleString('en-US')} vnodes): ring built whole (as before) vs derived, CPU`,
        `${cost.wholeMs.toFixed(0)} ms vs ${cost.joinMs.toFixed(1)} / ${cost.leaveMs.toFixed(1)} ms`,
        target ? '≤ 20 ms derived' : '—',
        target ? derived <= 20 : undefined,
      );
    }
    const hundred = Array.from({ length: 100 }, (_, i) => `10.0.${i >> 8}.${i & 255}:5001`);

    log('speed ...');
    const salt = randomBytes(4).toString('hex');
    const speedKeys = Array.from({ length: SPEED_KEYS }, (_, i) => `user:${salt}:${i}`);
    const key = (i) => speedKeys[i % SPEED_KEYS];
    for (const size of [10, 100]) {
      const names = hundred.slice(0, size);
      const ring = new Ring(names);
      const hashring = new HashRing(names);
      const primary = compare(
        (i) => ring.primary(key(i)),
        (i) => hashring.get(key(i)),
      );
      row(
        `primary(key), ${size} members vs hashring get(key)`,
        `${opsPerSec(primary.ours)} vs ${opsPerSec(primary.theirs)}: ${primary.ratio.toFixed(2)}×`,
        '≥ 2×',
        primary.ratio >= 2,
      );
      const list = compare(
        (i) => ring.preferenceList(key(i), 3),
        (i) => hashring.range(key(i), 3),
      );
      row(
        `preferenceList(key, 3), ${size} members vs hashring range(key, 3)`,
        `${opsPerSec(list.ours)} vs ${opsPerSec(list.theirs)}: ${list.ratio.toFixed(2)}×`,
        '≥ 2×',
        list.ratio >= 2,
      );
    }

    const failed = results.filter((ok) => !ok).length;
    return {
      headers: ['measure', 'result', 'target', 'met'],
      rows,
      summary: [
        failed === 0
          ? `all ${results.length} targets met`
          : `${failed} of ${results.length} targets NOT met`,
      ],
      notes:
        'A membership change derives the new ring from the old one: the vnodes of the member that joined or left are ' +
        'merged in or taken out, the other members keep theirs (cached, not hashed again), and only the preference ' +
        'lists that walk over a changed vnode are computed again; "built whole" is what every change cost before. ' +
        'Times are CPU time of this process (`process.cpuUsage`). ' +
        "@kv/ring hashes with SHA-256 (one-shot `crypto.hash`) and precomputes every vnode's preference list, so a " +
        'lookup is one hash, one binary search and a copy of the ids. `hashring` keeps an LRU cache (5,000 entries) in ' +
        '`get()`: every lookup here uses a key not seen for a million lookups, so it always misses, as a store with many ' +
        'keys would; `range()` has no cache. Balance and weights use random names, so they vary a little between runs.',
    };
  },
};
