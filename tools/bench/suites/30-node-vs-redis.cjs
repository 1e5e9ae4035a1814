'use strict';
// One kv node without replication against redis-server, both under redis-benchmark: what a
// node costs per request compared with Redis, with and without client pipelining.
const { startKv } = require('../kv-servers.cjs');
const { Processes } = require('../processes.cjs');
const {
  redisBenchmark,
  redisVersion,
  requireRedisTools,
  startRedis,
} = require('../redis-tools.cjs');
const { opsPerSec } = require('../report.cjs');

const REQUESTS = 200_000;
const CLIENTS = 50;
const ROUNDS = 2;
const TARGETS = { 1: 0.9, 16: 0.5 };

const ms = (x) => `${x.toFixed(2)} ms`;

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
      const targets = { kv: kv.nodePorts[0], redis: redis.port };
      // best[pipeline][server][test] = { rps, p50Ms }
      const best = {};
      for (let round = 0; round < ROUNDS; round++) {
        const order = round % 2 === 0 ? ['kv', 'redis'] : ['redis', 'kv'];
        for (const pipeline of [1, 16]) {
          for (const server of order) {
            log(`round ${round + 1}/${ROUNDS}: ${server}, -P ${pipeline}`);
            const results = await redisBenchmark(processes, targets[server], {
              n: REQUESTS,
              clients: CLIENTS,
              pipeline,
            });
            for (const [test, r] of Object.entries(results)) {
              best[pipeline] ??= { kv: {}, redis: {} };
              const held = best[pipeline][server][test];
              if (!held || r.rps > held.rps) best[pipeline][server][test] = r;
            }
          }
        }
      }
      const rows = [];
      let met = 0;
      let total = 0;
      for (const pipeline of [1, 16]) {
        for (const test of ['SET', 'GET']) {
          const k = best[pipeline].kv[test];
          const r = best[pipeline].redis[test];
          const ratio = k.rps / r.rps;
          const ok = ratio >= TARGETS[pipeline];
          total++;
          if (ok) met++;
          rows.push([
            `${test} -P ${pipeline}`,
            `${opsPerSec(k.rps)} (p50 ${ms(k.p50Ms)})`,
            `${opsPerSec(r.rps)} (p50 ${ms(r.p50Ms)})`,
            `${ratio.toFixed(2)}×`,
            `≥ ${TARGETS[pipeline]}×`,
            ok ? 'met' : 'NOT met',
          ]);
        }
      }
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
        summary: [
          met === total ? `all ${total} targets met` : `${total - met} of ${total} targets NOT met`,
        ],
      };
    } finally {
      await processes.stopAll();
    }
  },
};
