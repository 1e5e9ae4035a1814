'use strict';
// A replicated 3-node cluster under `kv bench` (the smart client), and its write throughput
// against one unreplicated node measured in the same run.
const { kvBench, startKv } = require('../kv-servers.cjs');
const { Processes } = require('../processes.cjs');
const { redisBenchmark, requireRedisTools } = require('../redis-tools.cjs');
const { opsPerSec } = require('../report.cjs');
const { barChart } = require('../svg-chart.cjs');

const fs = require('node:fs');
const path = require('node:path');

const CHART = path.join(__dirname, '..', '..', '..', 'docs', 'bench-cluster.svg');

const KEYS = 100_000;
const CONCURRENCY = 50;
const SECONDS = 5;
const ROUNDS = 2;
const SET_REQUESTS = 100_000;
const TARGET = 0.3;
/** Cluster writes ÷ one unreplicated node's writes, both through `kv bench` at CONCURRENCY. */
const SAME_DRIVER_TARGET = 0.6;

const WORKLOADS = {
  a: '50% read / 50% update',
  b: '95% read / 5% update',
  w: 'write only',
};

const ms = (x) => `${x.toFixed(2)} ms`;

/** `kv bench` of `workload` for SECONDS after a 1 s warm-up; the key space is loaded already. */
function bench(processes, coordinator, workload) {
  return kvBench(processes, coordinator, [
    ...['-w', workload, '--duration', String(SECONDS), '--warmup', '1', '--no-load'],
    ...['--keys', String(KEYS), '--concurrency', String(CONCURRENCY)],
  ]);
}

/** Keeps the faster of two measurements (with the latencies of that same run). */
function faster(held, next, rate) {
  return held === undefined || rate(next) > rate(held) ? next : held;
}

module.exports = {
  name: 'cluster',
  title: 'Three replicated nodes under kv bench',
  description:
    'A coordinator and 3 `kv-node`s (replication factor 3, write quorum 2) as child processes, driven by `kv bench` ' +
    `(@kv/client, which sends each request to the key's primary) with ${CONCURRENCY} workers, ` +
    `${KEYS.toLocaleString('en-US')} keys loaded first, zipfian (YCSB's 0.99), 100-byte values, 1 s warm-up then ` +
    `${SECONDS} s measured. Beside it, in the same run, one node with no replication (replication factor 1, write ` +
    `quorum 1) under \`redis-benchmark -t set -n ${SET_REQUESTS.toLocaleString('en-US')} -c ${CONCURRENCY} -P 1\`, as ` +
    'in the node-vs-redis suite, and under `kv bench -w w`. Both set-ups run side by side and are measured in turn, ' +
    `${ROUNDS} rounds in alternating order; each row is the faster round, with that round's latencies. ` +
    `Targets: cluster write throughput (workload w) ≥ ${SAME_DRIVER_TARGET}× the single node's under \`kv bench -w w\` ` +
    `(same driver, same ${CONCURRENCY} requests in flight, same run), and ≥ ${TARGET}× its redis-benchmark SET rate. ` +
    'Servers and client share the same cores, so the cluster figures are a floor.',
  async run({ log }) {
    requireRedisTools();
    const processes = new Processes();
    const best = {};
    let load;
    try {
      log('starting one node (RF 1) and three nodes (RF 3, W 2)');
      const single = await startKv(processes, { nodes: 1, replicationFactor: 1, writeQuorum: 1 });
      const cluster = await startKv(processes, { nodes: 3, replicationFactor: 3, writeQuorum: 2 });
      log(`loading ${KEYS.toLocaleString('en-US')} keys into each`);
      for (const servers of [single, cluster]) {
        const report = await kvBench(processes, servers.coordinator, [
          ...['-w', 'c', '--operations', '1', '--warmup', '0', '--load'],
          ...['--keys', String(KEYS), '--concurrency', String(CONCURRENCY)],
        ]);
        if (servers === cluster) load = report.load;
      }
      const steps = [
        [
          'single SET',
          () =>
            redisBenchmark(processes, single.nodePorts[0], {
              tests: 'set',
              n: SET_REQUESTS,
              clients: CONCURRENCY,
            }).then((r) => r.SET),
          (r) => r.rps,
        ],
        ['single w', () => bench(processes, single.coordinator, 'w'), (r) => r.opsPerSec],
        ...Object.keys(WORKLOADS).map((w) => [
          `cluster ${w}`,
          () => bench(processes, cluster.coordinator, w),
          (r) => r.opsPerSec,
        ]),
      ];
      for (let round = 0; round < ROUNDS; round++) {
        const order = round % 2 === 0 ? steps : [...steps].reverse();
        for (const [name, measure, rate] of order) {
          log(`round ${round + 1}/${ROUNDS}: ${name}`);
          best[name] = faster(best[name], await measure(), rate);
        }
      }
    } finally {
      await processes.stopAll();
    }

    const benchRow = (workload, servers, r) => [
      `${workload} (${WORKLOADS[workload]})`,
      servers,
      opsPerSec(r.opsPerSec),
      ms(r.latencyMs.p50),
      ms(r.latencyMs.p99),
      r.errors === 0
        ? '0'
        : `${r.errors} (${Object.entries(r.errorsByKind)
            .map(([k, n]) => `${k} ${n}`)
            .join(', ')})`,
    ];
    const set = best['single SET'];
    const rows = [
      ...Object.keys(WORKLOADS).map((w) => benchRow(w, '3 nodes, RF 3, W 2', best[`cluster ${w}`])),
      benchRow('w', '1 node, RF 1', best['single w']),
      [
        'redis-benchmark SET -P 1',
        '1 node, RF 1',
        opsPerSec(set.rps),
        ms(set.p50Ms),
        ms(set.p99Ms),
        '0',
      ],
    ];
    const charted = [
      ...Object.keys(WORKLOADS).map((w) => [`${w}: 3 nodes, RF 3, W 2`, best[`cluster ${w}`]]),
      ['w: 1 node, RF 1', best['single w']],
    ];
    fs.writeFileSync(
      CHART,
      barChart({
        title: 'kv bench, 50 workers: throughput and p99 per workload',
        labels: charted.map(([label]) => label),
        panels: [
          {
            title: 'throughput (ops/s)',
            values: charted.map(([, r]) => r.opsPerSec),
            format: opsPerSec,
          },
          { title: 'p99 latency', values: charted.map(([, r]) => r.latencyMs.p99), format: ms },
        ],
      }),
    );
    const clusterWrites = best['cluster w'].opsPerSec;
    const ratio = clusterWrites / set.rps;
    const sameDriver = clusterWrites / best['single w'].opsPerSec;
    return {
      headers: ['workload', 'servers', 'throughput', 'p50', 'p99', 'errors'],
      rows,
      summary: [
        `cluster writes ÷ single-node writes, both through kv bench -w w with ${CONCURRENCY} in flight: ${sameDriver.toFixed(2)}× (target ≥ ${SAME_DRIVER_TARGET}×): ${sameDriver >= SAME_DRIVER_TARGET ? 'met' : 'NOT met'}`,
        `cluster writes ÷ single-node redis-benchmark SET: ${ratio.toFixed(2)}× (target ≥ ${TARGET}×): ${ratio >= TARGET ? 'met' : 'NOT met'}`,
        `loading ${load.keys.toLocaleString('en-US')} keys into the cluster (64 writes in flight): ${opsPerSec(load.opsPerSec)}`,
      ],
      notes:
        '`kv bench` keeps 50 requests in flight over one connection per node, and the client writes requests issued ' +
        'together in one batch; redis-benchmark -P 1 has 50 connections with one request each. That is why the ' +
        'single node is faster under `kv bench` than under redis-benchmark, and why the like-for-like ratio (the first ' +
        'line) is the one to read.\n\n![kv bench throughput and p99 per workload](bench-cluster.svg)',
    };
  },
};
