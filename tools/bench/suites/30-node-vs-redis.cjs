'use strict';
// One kv node without replication against redis-server, both under redis-benchmark: what a
// node costs per request compared with Redis, with and without client pipelining.
const { startKv } = require('../kv-servers.cjs');
const { Processes } = require('../processes.cjs');
const {
  bestOfRounds,
  ratioRows,
  redisVersion,
  requireRedisTools,
  startRedis,
} = require('../redis-tools.cjs');

const REQUESTS = 200_000;
const CLIENTS = 50;
const ROUNDS = 2;
const TARGETS = { 1: 0.9, 16: 0.5 };

module.exports = {
  name: 'node-vs-redis',
  title: 'One kv node vs redis-server under redis-benchmark',
  description:
    'A coordinator and one `kv-node` started from the built bins, with no replication (`--replication-factor 1 ' +
    "--write-quorum 1`), against `redis-server --save '' --appendonly no`, each on its own free port of 127.0.0.1. " +
    `Both are driven by \`redis-benchmark -t set,get -n ${REQUESTS.toLocaleString('en-US')} -c ${CLIENTS} -P <1|16>\` ` +
    `(one key, as redis-benchmark uses without \`-r\`). ${ROUNDS} alternating rounds, kv first then Redis first; the best ` +
    'rate of each is kept, so a burst of load from elsewhere on the machine hurts neither side more. ' +
    'p50 is from the same run as the rate. Targets: kv ÷ Redis ≥ 0.9 at -P 1, ≥ 0.5 at -P 16.',
  async run({ log }) {
    requireRedisTools();
    const processes = new Processes();
    try {
      log('starting a kv node (RF 1) and redis-server');
      const kv = await startKv(processes, { nodes: 1, replicationFactor: 1, writeQuorum: 1 });
      const redis = await startRedis(processes);
      const targets = { kv: { port: kv.nodePorts[0] }, redis: { port: redis.port } };
      const best = await bestOfRounds(processes, targets, {
        rounds: ROUNDS,
        pipelines: [1, 16],
        requests: () => REQUESTS,
        clients: CLIENTS,
        log,
      });
      const { rows, summary } = ratioRows(best, {
        columns: ['kv', 'redis'],
        numerator: 'kv',
        denominator: 'redis',
        targets: TARGETS,
      });
      return {
        headers: [
          'test',
          'kv node',
          `redis-server ${redisVersion()}`,
          'kv ÷ redis',
          'target',
          'met',
        ],
        rows,
        summary,
      };
    } finally {
      await processes.stopAll();
    }
  },
};
