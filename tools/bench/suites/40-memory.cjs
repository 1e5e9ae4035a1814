'use strict';
// Memory per key of one kv node against redis-server holding the same keys and values.
const { command, startKv } = require('../kv-servers.cjs');
const { Processes, rssBytes } = require('../processes.cjs');
const { redisVersion, requireRedisTools, startRedis } = require('../redis-tools.cjs');
const { loadKeys } = require('../resp-loader.cjs');

const KEYS = 1_000_000;
const VALUE_BYTES = 100;
const TARGET = 2;
// RSS is read after this long idle, so allocation bursts of the load have settled.
const SETTLE_MS = 2000;

const mib = (bytes) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Loads the keys into the server on `port` (process `pid`) and measures its RSS around it. */
async function measure(log, label, port, pid) {
  const before = rssBytes(pid);
  const started = Date.now();
  await loadKeys(port, KEYS, VALUE_BYTES);
  const seconds = (Date.now() - started) / 1000;
  const dbsize = Number(await command(port, ['DBSIZE']));
  if (dbsize !== KEYS) throw new Error(`${label} holds ${dbsize} keys after loading ${KEYS}`);
  await sleep(SETTLE_MS);
  const after = rssBytes(pid);
  log(
    `${label}: ${KEYS.toLocaleString('en-US')} keys in ${seconds.toFixed(1)} s, DBSIZE ${dbsize}`,
  );
  return { before, after, perKey: (after - before) / KEYS, seconds };
}

module.exports = {
  name: 'memory',
  title: 'Memory per key: one kv node vs redis-server',
  description:
    `${KEYS.toLocaleString('en-US')} keys \`key:<i>\` with ${VALUE_BYTES}-byte values, written with pipelined SETs ` +
    '(RESP encoded with @kv/protocol, 5,000 commands a batch, 4 batches in flight over one connection) into one ' +
    "`kv-node` without replication and into `redis-server --save '' --appendonly no`. Resident memory (VmRSS of " +
    `/proc/<pid>/status) is read before loading and ${SETTLE_MS / 1000} s after; DBSIZE confirms every key landed. ` +
    `Target: kv bytes per key ≤ ${TARGET}× Redis.`,
  async run({ log }) {
    requireRedisTools();
    const processes = new Processes();
    try {
      const kv = await startKv(processes, { nodes: 1, replicationFactor: 1, writeQuorum: 1 });
      const redis = await startRedis(processes);
      log('loading redis-server');
      const r = await measure(log, 'redis-server', redis.port, redis.proc.pid);
      log('loading the kv node');
      const k = await measure(log, 'kv node', kv.nodePorts[0], kv.nodes[0].pid);
      const ratio = k.perKey / r.perKey;
      const row = (name, m) => [
        name,
        mib(m.before),
        mib(m.after),
        `${Math.round(m.perKey)} B`,
        `${Math.round(KEYS / m.seconds).toLocaleString('en-US')}/s`,
      ];
      return {
        headers: ['server', 'RSS before', 'RSS after', 'bytes per key', 'load rate'],
        rows: [row('kv node', k), row(`redis-server ${redisVersion()}`, r)],
        summary: [
          `kv ÷ Redis bytes per key: ${ratio.toFixed(2)}× (target ≤ ${TARGET}×): ${ratio <= TARGET ? 'met' : 'NOT met'}`,
        ],
        notes:
          'Bytes per key is (RSS after − RSS before) ÷ keys: it includes allocator overhead and, for the kv node, ' +
          'V8 heap headroom that a garbage collection could give back, which is memory the process holds all the same.',
      };
    } finally {
      await processes.stopAll();
    }
  },
};
