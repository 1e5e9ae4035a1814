'use strict';
// What a node pays to coordinate requests for keys it does not hold alone: redis-benchmark
// sends everything to one node of a 3-node cluster, while kv bench (the smart client) sends
// each request to the key's primary; both compared with one unreplicated node.
const { kvBench, startKv } = require('../kv-servers.cjs');
const { Processes } = require('../processes.cjs');
const { redisBenchmark, requireRedisTools } = require('../redis-tools.cjs');
const { opsPerSec } = require('../report.cjs');

const REQUESTS = 100_000;
const KEYS = 100_000;
const CLIENTS = 50;
const ROUNDS = 2;

const SETUPS = [
  { name: '1 node, RF 1', nodes: 1, replicationFactor: 1, writeQuorum: 1 },
  { name: '3 nodes, RF 3, W 2', nodes: 3, replicationFactor: 3, writeQuorum: 2 },
  { name: '3 nodes, RF 1', nodes: 3, replicationFactor: 1, writeQuorum: 1 },
];

const DRIVERS = {
  'redis-benchmark': async (processes, servers) => {
    const r = await redisBenchmark(processes, servers.nodePorts[0], {
      n: REQUESTS,
      clients: CLIENTS,
      keyspace: KEYS,
    });
    return { set: r.SET.rps, get: r.GET.rps };
  },
  'kv bench': async (processes, servers) => {
    const run = (workload) =>
      kvBench(processes, servers.coordinator, [
        ...['-w', workload, '--operations', String(REQUESTS), '--no-load'],
        ...['--keys', String(KEYS), '--concurrency', String(CLIENTS), '--distribution', 'uniform'],
      ]);
    const writes = await run('w');
    const reads = await run('c');
    return { set: writes.opsPerSec, get: reads.opsPerSec };
  },
};

const ratio = (x, base) => `${(x / base).toFixed(2)}×`;

module.exports = {
  name: 'forwarding',
  title: 'Forwarding and replication: one node of three vs the smart client',
  description:
    `\`redis-benchmark -t set,get -n ${REQUESTS.toLocaleString('en-US')} -c ${CLIENTS} -r ${KEYS.toLocaleString('en-US')}\` ` +
    'sends every request to the first node of the cluster, which coordinates it: with replication factor 3 on 3 ' +
    'nodes every node holds every key, so a SET waits for one other replica (write quorum 2) and a GET is answered ' +
    'locally; with replication factor 1 the node forwards the two thirds of keys it does not own to their owner. ' +
    `\`kv bench -w w\` / \`-w c\` (${REQUESTS.toLocaleString('en-US')} operations each, ${CLIENTS} workers, uniform over the ` +
    `same ${KEYS.toLocaleString('en-US')} keys, loaded first) send each request to the key's primary instead. All three ` +
    `set-ups run side by side and are measured in turn, ${ROUNDS} rounds in alternating order; the faster round is kept. ` +
    'Ratios are against the single node with the same driver.',
  async run({ log }) {
    requireRedisTools();
    const processes = new Processes();
    const best = {};
    try {
      log('starting the three set-ups');
      const servers = [];
      for (const setup of SETUPS) servers.push(await startKv(processes, setup));
      log(`loading ${KEYS.toLocaleString('en-US')} keys into each`);
      await Promise.all(
        servers.map((s) =>
          kvBench(processes, s.coordinator, [
            ...['-w', 'c', '--operations', '1', '--warmup', '0', '--load'],
            ...['--keys', String(KEYS), '--concurrency', String(CLIENTS)],
          ]),
        ),
      );
      const steps = [];
      SETUPS.forEach((setup, i) => {
        for (const driver of Object.keys(DRIVERS))
          steps.push({ setup, servers: servers[i], driver });
      });
      for (let round = 0; round < ROUNDS; round++) {
        for (const { setup, servers: s, driver } of round % 2 === 0
          ? steps
          : [...steps].reverse()) {
          log(`round ${round + 1}/${ROUNDS}: ${setup.name}, ${driver}`);
          const r = await DRIVERS[driver](processes, s);
          const key = `${setup.name}|${driver}`;
          const held = best[key] ?? { set: 0, get: 0 };
          best[key] = { set: Math.max(held.set, r.set), get: Math.max(held.get, r.get) };
        }
      }
    } finally {
      await processes.stopAll();
    }

    const rows = [];
    for (const driver of Object.keys(DRIVERS)) {
      const base = best[`${SETUPS[0].name}|${driver}`];
      for (const setup of SETUPS) {
        const r = best[`${setup.name}|${driver}`];
        rows.push([
          setup.name,
          driver === 'redis-benchmark' ? 'redis-benchmark → node 1' : 'kv bench → primary',
          opsPerSec(r.set),
          opsPerSec(r.get),
          ratio(r.set, base.set),
          ratio(r.get, base.get),
        ]);
      }
    }
    return {
      headers: ['servers', 'driver', 'SET / PUT', 'GET', 'SET vs 1 node', 'GET vs 1 node'],
      rows,
      notes:
        'There is no target here: the rows show where the cost is. Rates of the two drivers are not comparable with ' +
        'each other (redis-benchmark: 50 connections, one request in flight on each; kv bench: 50 requests in flight ' +
        'over one pipelined connection per node).',
    };
  },
};
