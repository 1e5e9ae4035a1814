'use strict';
// What serving Prometheus metrics costs a node: the same redis-benchmark run against a node
// with its /metrics endpoint on and scraped every second, and against a node without it.
const fs = require('node:fs');
const http = require('node:http');
const { startKv } = require('../kv-servers.cjs');
const { Processes, cpuSeconds, freePort } = require('../processes.cjs');
const { redisBenchmark, requireRedisTools } = require('../redis-tools.cjs');
const { opsPerSec } = require('../report.cjs');

const REQUESTS = 200_000;
const CLIENTS = 50;
const ROUNDS = 3;
const SCRAPE_MS = 1000;
const TARGET = 0.95;

/** GETs /metrics every SCRAPE_MS until stopped; resolves with the number of scrapes. */
function scrapeEvery(port) {
  let scrapes = 0;
  let failures = 0;
  const scrape = () =>
    http
      .get({ host: '127.0.0.1', port, path: '/metrics' }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? scrapes++ : failures++));
      })
      .on('error', () => failures++);
  const timer = setInterval(scrape, SCRAPE_MS);
  return () => {
    clearInterval(timer);
    if (failures > 0) throw new Error(`${failures} scrape(s) of /metrics failed`);
    return scrapes;
  };
}

module.exports = {
  name: 'metrics',
  title: 'Metrics on vs off: one node under redis-benchmark',
  description:
    'Two single nodes (replication factor 1, write quorum 1), each with its own coordinator, run side by side: ' +
    'one with `--metrics-port` and its `/metrics` scraped every second while measured (as Prometheus would, 60 times ' +
    'more often than its default), one without a metrics port. Both are driven by ' +
    `\`redis-benchmark -t set,get -n ${REQUESTS.toLocaleString('en-US')} -c ${CLIENTS} -P 1\`, ${ROUNDS} rounds in ` +
    'alternating order; the best rate of each is kept. Request counting and latency histograms are kept ' +
    'either way (INFO reports them): what differs is the HTTP listener, the process and event-loop metrics and the ' +
    `scrapes. Target: metrics on ÷ off ≥ ${TARGET}. The node's CPU time per request (from /proc, busy time ` +
    'only) is the figure that does not depend on what else the machine runs: on a shared machine the rates of two ' +
    'rounds of the same set-up differ by more than 5%, and the rate ratio with them.',
  async run({ log }) {
    requireRedisTools();
    const processes = new Processes();
    try {
      log('starting a node with metrics and one without');
      const metricsPort = await freePort();
      const on = await startKv(processes, {
        nodeArgs: () => ['--metrics-port', String(metricsPort)],
      });
      const off = await startKv(processes);
      const setups = { on: on.nodePorts[0], off: off.nodePorts[0] };
      const pids = { on: on.nodes[0].pid, off: off.nodes[0].pid };
      const best = { on: {}, off: {} };
      const cpu = { on: 0, off: 0 };
      let scrapes = 0;
      for (let round = 0; round < ROUNDS; round++) {
        const order = round % 2 === 0 ? ['on', 'off'] : ['off', 'on'];
        for (const setup of order) {
          log(`round ${round + 1}/${ROUNDS}: metrics ${setup}`);
          const stop = setup === 'on' ? scrapeEvery(metricsPort) : () => 0;
          const cpuBefore = cpuSeconds(pids[setup]);
          const results = await redisBenchmark(processes, setups[setup], {
            n: REQUESTS,
            clients: CLIENTS,
          });
          cpu[setup] += cpuSeconds(pids[setup]) - cpuBefore;
          scrapes += stop();
          for (const [test, r] of Object.entries(results)) {
            if (!best[setup][test] || r.rps > best[setup][test].rps) best[setup][test] = r;
          }
        }
      }
      const rows = [];
      let met = 0;
      for (const test of ['SET', 'GET']) {
        const ratio = best.on[test].rps / best.off[test].rps;
        if (ratio >= TARGET) met++;
        rows.push([
          `${test} -P 1`,
          opsPerSec(best.on[test].rps),
          opsPerSec(best.off[test].rps),
          `${ratio.toFixed(2)}×`,
          `≥ ${TARGET}×`,
          ratio >= TARGET ? 'met' : 'NOT met',
        ]);
      }
      // Both tests of every round: 2 × REQUESTS requests per round.
      const perRequest = (setup) => (cpu[setup] / (ROUNDS * 2 * REQUESTS)) * 1e6;
      const targets = rows.length;
      rows.push([
        'node CPU per request',
        `${perRequest('on').toFixed(1)} µs`,
        `${perRequest('off').toFixed(1)} µs`,
        `${(perRequest('off') / perRequest('on')).toFixed(2)}× (off ÷ on)`,
        '',
        '',
      ]);
      return {
        headers: [
          'test',
          'metrics on (scraped every 1 s)',
          'metrics off',
          'on ÷ off',
          'target',
          'met',
        ],
        rows,
        summary: [
          `${scrapes} scrapes of /metrics during the measured runs, none failed`,
          met === targets
            ? `all ${targets} targets met`
            : `${targets - met} of ${targets} targets NOT met`,
        ],
      };
    } finally {
      await processes.stopAll();
    }
  },
};
