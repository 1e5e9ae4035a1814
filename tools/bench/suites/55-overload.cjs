'use strict';
// Three replicated nodes driven past their peak: the in-flight count at which throughput
// peaks, then 1×, 4× and 16× that many requests in flight, with what the nodes did about it
// (replica failures, hints, members' connections lost).
const { ask, kvBench, startKv } = require('../kv-servers.cjs');
const { Processes } = require('../processes.cjs');
const { opsPerSec } = require('../report.cjs');

const KEYS = 100_000;
/** In-flight counts tried to find the peak, doubling. */
const SCAN = [16, 32, 64, 128, 256, 512, 1024];
const SCAN_SECONDS = 3;
/** Passes over the scan; each count keeps its best, so a burst of load elsewhere does not pick the peak. */
const SCAN_PASSES = 2;
const SECONDS = 5;
const MULTIPLES = [1, 4, 16];
/** Target: throughput at 16× the peak's in-flight count ≥ this share of the peak's. */
const TARGET = 0.8;

/**
 * The cluster measured (default flags: admission control on), and beside it one with the
 * node-wide bound off and replica queues as long as a connection's default.
 */
const SETUPS = {
  bounded: { label: 'default flags', nodeArgs: [] },
  unbounded: {
    label: '--max-in-flight 0 --max-replica-queue 10000',
    nodeArgs: ['--max-in-flight', '0', '--max-replica-queue', '10000'],
  },
};

/** INFO fields summed over the nodes before and after each run. */
const COUNTERS = {
  replica_failures: 'replica failures',
  writes_unavailable: 'writes unavailable',
  member_connections_lost: 'member connections lost',
};

const ms = (x) => `${x.toFixed(1)} ms`;

/** The INFO fields of every node, summed: { field: number }. */
async function clusterInfo(ports) {
  const sums = {};
  for (const port of ports) {
    const info = await ask(port, ['INFO'], 10_000);
    const text = Buffer.isBuffer(info) ? info.toString() : '';
    for (const line of text.split('\r\n')) {
      const [field, value] = line.split(':');
      const n = Number(value);
      if (field && value !== undefined && Number.isFinite(n)) sums[field] = (sums[field] ?? 0) + n;
    }
  }
  return sums;
}

/** `kv bench -w w` with `inFlight` workers for `seconds`, and what the nodes counted meanwhile. */
async function writeRun(processes, cluster, inFlight, seconds) {
  const before = await clusterInfo(cluster.nodePorts);
  const report = await kvBench(processes, cluster.coordinator, [
    ...['-w', 'w', '--duration', String(seconds), '--warmup', '1', '--no-load'],
    ...['--keys', String(KEYS), '--concurrency', String(inFlight)],
  ]);
  const after = await clusterInfo(cluster.nodePorts);
  const counted = Object.fromEntries(
    Object.keys(COUNTERS).map((field) => [field, (after[field] ?? 0) - (before[field] ?? 0)]),
  );
  return { report, counted, hintsPending: after.hints_pending ?? 0 };
}

function errorsText(report) {
  if (report.errors === 0) return '0';
  const kinds = Object.entries(report.errorsByKind).map(([k, n]) => `${k} ${n}`);
  return `${report.errors} (${kinds.join(', ')})`;
}

module.exports = {
  name: 'overload',
  title: 'Three replicated nodes past their peak',
  description:
    'A coordinator and 3 `kv-node`s (replication factor 3, write quorum 2, default flags) as child processes, ' +
    `and beside it a second such cluster started with \`${SETUPS.unbounded.label}\` (no admission control; a busy member's connection is still kept, as always now), ` +
    `${KEYS.toLocaleString('en-US')} keys loaded first, driven by \`kv bench -w w\` (writes only, zipfian, ` +
    '100-byte values; one connection per node, every worker keeps one request in flight). First the peak: ' +
    `in-flight counts ${SCAN.join(', ')} for ${SCAN_SECONDS} s each, ${SCAN_PASSES} passes; the peak is the ` +
    `count with the best throughput (each count's best pass). Then ${MULTIPLES.map((m) => `${m}×`).join(', ')} ` +
    `that count, ${SECONDS} s each after a 1 s warm-up, on each cluster in turn (alternating which goes first). ` +
    `Beside each run, what the nodes counted during it ` +
    "(INFO, summed over the 3 nodes): replica requests that failed, writes answered UNAVAILABLE, members' " +
    'replication connections lost; and the writes kept as hints at its end. ' +
    `Target: with default flags, throughput at 16× ≥ ${TARGET}× the peak's, with no errors. Servers and client ` +
    'share the same cores.',
  async run({ log }) {
    const processes = new Processes();
    const scan = [];
    const runs = [];
    let peak;
    try {
      log('starting two clusters of three nodes (RF 3, W 2)');
      const clusters = {};
      for (const [name, { nodeArgs }] of Object.entries(SETUPS)) {
        clusters[name] = await startKv(processes, {
          nodes: 3,
          replicationFactor: 3,
          writeQuorum: 2,
          nodeArgs,
        });
        log(`loading ${KEYS.toLocaleString('en-US')} keys into the ${name} cluster`);
        await kvBench(processes, clusters[name].coordinator, [
          ...['-w', 'c', '--operations', '1', '--warmup', '0', '--load'],
          ...['--keys', String(KEYS), '--concurrency', '64'],
        ]);
      }
      const cluster = clusters.bounded;
      for (let pass = 0; pass < SCAN_PASSES; pass++) {
        for (const [i, inFlight] of SCAN.entries()) {
          log(`peak scan ${pass + 1}/${SCAN_PASSES}: ${inFlight} in flight`);
          const { report } = await writeRun(processes, cluster, inFlight, SCAN_SECONDS);
          scan[i] = { inFlight, rate: Math.max(scan[i]?.rate ?? 0, report.opsPerSec) };
        }
      }
      peak = scan.reduce((best, s) => (s.rate > best.rate ? s : best));
      for (const [i, multiple] of MULTIPLES.entries()) {
        const inFlight = peak.inFlight * multiple;
        const names = Object.keys(SETUPS);
        for (const name of i % 2 === 0 ? names : names.reverse()) {
          log(`${multiple}× the peak (${inFlight} in flight), ${name}`);
          runs.push({
            name,
            multiple,
            inFlight,
            ...(await writeRun(processes, clusters[name], inFlight, SECONDS)),
          });
        }
      }
    } finally {
      await processes.stopAll();
    }
    const ordered = Object.keys(SETUPS).flatMap((name) => runs.filter((r) => r.name === name));
    const rows = ordered.map(({ name, multiple, inFlight, report, counted, hintsPending }) => [
      SETUPS[name].label,
      `${multiple}× (${inFlight.toLocaleString('en-US')})`,
      opsPerSec(report.opsPerSec),
      ms(report.latencyMs.p50),
      ms(report.latencyMs.p99),
      errorsText(report),
      ...Object.keys(COUNTERS).map((field) => String(counted[field])),
      String(hintsPending),
    ]);
    /** Throughput at 16× ÷ the peak's; and p99 at 16× ÷ p99 at 1×. */
    const ratioOf = (name) => {
      const of = runs.filter((r) => r.name === name);
      const first = of[0].report;
      const last = of[of.length - 1].report;
      return { rate: last.opsPerSec / peak.rate, p99: last.latencyMs.p99 / first.latencyMs.p99 };
    };
    const bounded = ratioOf('bounded');
    const unbounded = ratioOf('unbounded');
    const last = runs.filter((r) => r.name === 'bounded').pop();
    const met = bounded.rate >= TARGET && last.report.errors === 0;
    return {
      headers: [
        'nodes',
        'in flight',
        'throughput',
        'p50',
        'p99',
        'errors',
        ...Object.values(COUNTERS),
        'hints pending',
      ],
      rows,
      summary: [
        `peak scan (in flight: writes/s): ${scan.map((s) => `${s.inFlight}: ${opsPerSec(s.rate)}`).join(', ')}; peak at ${peak.inFlight} in flight`,
        `default flags: throughput at 16× ÷ the peak's ${bounded.rate.toFixed(2)} (target ≥ ${TARGET}, no errors): ${met ? 'met' : 'NOT met'}; p99 at 16× ÷ at 1× ${bounded.p99.toFixed(1)}`,
        `${SETUPS.unbounded.label}: throughput at 16× ÷ the peak's ${unbounded.rate.toFixed(2)}; p99 at 16× ÷ at 1× ${unbounded.p99.toFixed(1)}`,
      ],
      notes:
        'The latencies are those `kv bench` sees, from the moment a worker issues a request: with N requests ' +
        "in flight and a cluster serving X writes/s, a request waits about N ÷ X in all (Little's law), so p50 " +
        'and p99 grow with the in-flight count however the nodes behave. What admission control decides is where ' +
        "that wait happens (in the client and the sockets, not in the nodes' replica queues) and whether " +
        'throughput holds.',
    };
  },
};
