'use strict';
// Durable writes: one kv node with --fsync always against redis-server with an append-only
// file synced always and every second, under the same redis-benchmark; then three durable
// replicated nodes under kv bench, and the disk bytes each side spends per key.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { ask, kvBench, startKv, BINS } = require('../kv-servers.cjs');
const { Processes, cpuSeconds, freePort, waitFor } = require('../processes.cjs');
const { loadKeys } = require('../resp-loader.cjs');
const {
  redisBenchmark,
  redisVersion,
  requireRedisTools,
  startRedis,
} = require('../redis-tools.cjs');
const { opsPerSec } = require('../report.cjs');

const CLIENTS = 50;
const ROUNDS = 5;
const REQUESTS = { 1: 50_000, 16: 200_000 };
const TARGETS = { 1: 0.9, 16: 0.5 };
const SIZE_KEYS = 100_000;
const VALUE_BYTES = 100;
const CLUSTER_SECONDS = 5;
const RESTART_KEYS = 1_000_000;
const RESTART_TARGET_MS = 2000;
/** Writes loaded under `--fsync always` before the replay restart: several log segments. */
const REPLAY_KEYS = 200_000;

const ms = (x) => `${x.toFixed(2)} ms`;

/**
 * Starts node-aof-server.cjs (the least a Node.js server does per durable SET: see there)
 * with its file in `dir`.
 */
async function startNodeAof(processes, dir) {
  const port = await freePort();
  const proc = processes.start('node-aof-server', process.execPath, [
    path.join(__dirname, '..', 'node-aof-server.cjs'),
    String(port),
    path.join(dir, 'appendonly.log'),
  ]);
  await waitFor(async () => (await ask(port, ['PING'])) !== undefined, 'node-aof-server', {
    watch: [proc],
  });
  return { port, proc };
}

/** Bytes a directory's files take on disk (allocated blocks, so sparse files count as used). */
function diskBytes(dir) {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    total += entry.isDirectory() ? diskBytes(p) : fs.statSync(p).blocks * 512;
  }
  return total;
}

/**
 * Loads `keys` keys of VALUE_BYTES into one durable node started with `--fsync <loadFsync>`,
 * SIGKILLs it, starts it again on the same directory (with `--fsync always`) and times how
 * long the new process takes, from its spawn, to answer a GET of its own data (the key
 * written last, polled every few milliseconds). Under `always` the load is acknowledged
 * from the write-ahead log, so the restart replays what the log holds; `replayed` is the
 * count the node logs.
 */
async function restartTime(processes, root, log, { keys: count, loadFsync, name }) {
  // Loaded with a long write deadline, as fast as the node takes the keys (the load is not
  // what is measured).
  const kv = await startKv(processes, {
    dataRoot: path.join(root, name),
    nodeArgs: ['--fsync', loadFsync, '--write-deadline', '60000'],
  });
  const port = kv.nodePorts[0];
  log(`restart (${name}): loading ${count.toLocaleString('en-US')} keys of ${VALUE_BYTES} B`);
  await loadKeys(port, count, VALUE_BYTES, { batch: 2000, window: 2 });
  const keys = await keysOf(port);
  const bytes = diskBytes(kv.nodeDirs[0]);
  const node = kv.nodes[0];
  process.kill(-node.pid, 'SIGKILL');
  await node.exited;
  log(`restart (${name}): SIGKILLed; starting it again on the same directory`);
  const last = `key:${count - 1}`;
  const started = performance.now();
  const again = processes.start(`kv node ${port} (restarted)`, process.execPath, [
    BINS.node,
    ...['--port', String(port), '--coordinator', kv.coordinator],
    ...['--replication-factor', '1', '--write-quorum', '1'],
    ...['--data-dir', kv.nodeDirs[0], '--fsync', 'always', '--log-level', 'info'],
  ]);
  for (;;) {
    if (again.done) throw new Error(`the restarted node exited:\n${again.lines.join('\n')}`);
    const reply = await ask(port, ['GET', last], 500).catch(() => undefined);
    if (Buffer.isBuffer(reply) && reply.length === VALUE_BYTES) break;
    if (performance.now() - started > 60_000)
      throw new Error('the restarted node served no GET of its data within 60 s');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const ms = performance.now() - started;
  const replayedLine = again.lines.map((l) => / (\d+) write\(s\) replayed/.exec(l)).find(Boolean);
  return { ms, keys, bytes, replayed: replayedLine ? Number(replayedLine[1]) : 0 };
}

/** Keys held, from INFO keyspace (`db0:keys=N`), which kv nodes and Redis both answer. */
async function keysOf(port) {
  const info = await ask(port, ['INFO', 'keyspace']);
  const match = Buffer.isBuffer(info) ? /keys=(\d+)/.exec(info.toString()) : null;
  if (!match) throw new Error(`no key count in INFO keyspace of 127.0.0.1:${port}`);
  return Number(match[1]);
}

module.exports = {
  restartTime,
  name: 'durable',
  title: 'Durable writes: kv --fsync always vs Redis AOF',
  description:
    'One `kv-node --data-dir DIR --fsync always` (the writes of one event turn, and of the few turns after it while writers keep coming, synced together in a write-ahead log, each round of replies sent once that sync is done, LMDB taking the writes every 50 ms; ' +
    'replication factor 1, write quorum 1) against `redis-server --appendonly yes --appendfsync always` and ' +
    '`--appendfsync everysec`, each with its files in a fresh temporary directory of the same disk, all driven by ' +
    `\`redis-benchmark -t set -c ${CLIENTS} -P <1|16>\` (${REQUESTS[1].toLocaleString('en-US')} requests at -P 1, ` +
    `${REQUESTS[16].toLocaleString('en-US')} at -P 16; one key, as redis-benchmark uses without \`-r\`). ` +
    `Each server first runs the same load once at each depth, not counted (a warm-up, as the JIT compiler of a kv ` +
    `node settles in); then ${ROUNDS} rounds in alternating order; the best rate of each is kept, and each server's CPU time (from /proc) ` +
    'is summed over the rounds; a kv node in memory runs the same rounds for reference, and so does ' +
    '`tools/bench/node-aof-server.cjs`, the least a Node.js server does per SET under `appendfsync always` ' +
    "(each command's bytes appended to a file, synced in frames gathered as a kv node's write-ahead log gathers " +
    'them, replies after the sync, no store), ' +
    'to show what the runtime itself costs. Then 3 durable nodes (replication ' +
    `factor 3, write quorum 2, \`--fsync always\`) under \`kv bench -w w\` (${CLIENTS} workers, ${CLUSTER_SECONDS} s), ` +
    `and disk use after \`redis-benchmark -t set -n ${SIZE_KEYS.toLocaleString('en-US')} -r ${SIZE_KEYS.toLocaleString('en-US')} ` +
    `-d ${VALUE_BYTES}\` into a fresh kv node and a fresh Redis (appendfsync always). ` +
    `Last, a node loaded with ${RESTART_KEYS.toLocaleString('en-US')} keys of ${VALUE_BYTES} B is SIGKILLed and ` +
    'started again on its directory, timed from the spawn of the new process to its first answer to a GET of its data. ' +
    'Targets: kv ÷ Redis `always` ≥ 0.9 at -P 1, ≥ 0.5 at -P 16; the restart ≤ 2 s plus catch-up.',
  async run({ log }) {
    requireRedisTools();
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kv-bench-durable-'));
    const processes = new Processes();
    try {
      log(
        'starting a durable kv node, a memory kv node, and redis-server with appendfsync always and everysec',
      );
      const kv = await startKv(processes, {
        dataRoot: path.join(root, 'kv'),
        nodeArgs: ['--fsync', 'always'],
      });
      const memory = await startKv(processes, {});
      const always = await startRedis(processes, {
        appendfsync: 'always',
        dir: mkdir(root, 'always'),
      });
      const everysec = await startRedis(processes, {
        appendfsync: 'everysec',
        dir: mkdir(root, 'everysec'),
      });
      const nodeAof = await startNodeAof(processes, mkdir(root, 'node-aof'));
      const servers = {
        kv: { port: kv.nodePorts[0], pid: kv.nodes[0].pid },
        memory: { port: memory.nodePorts[0], pid: memory.nodes[0].pid },
        always: { port: always.port, pid: always.proc.pid },
        everysec: { port: everysec.port, pid: everysec.proc.pid },
        nodeAof: { port: nodeAof.port, pid: nodeAof.proc.pid },
      };
      /** One redis-benchmark SET run against server `name` at depth `pipeline`. */
      const setRun = (name, pipeline) =>
        redisBenchmark(processes, servers[name].port, {
          tests: 'set',
          n: REQUESTS[pipeline],
          clients: CLIENTS,
          pipeline,
        });
      // Each server warmed first at each depth, not counted: a JIT compiler settling in
      // (and files and caches growing to their working size) is not what is measured.
      for (const pipeline of [1, 16]) {
        for (const name of Object.keys(servers)) {
          log(`warm-up: ${name}, -P ${pipeline}`);
          await setRun(name, pipeline);
        }
      }
      const best = { 1: {}, 16: {} };
      // CPU seconds each server spent, over every round, and the requests they served.
      const cpu = { 1: {}, 16: {} };
      for (let round = 0; round < ROUNDS; round++) {
        const names = Object.keys(servers);
        const order = round % 2 === 0 ? names : [...names].reverse();
        for (const pipeline of [1, 16]) {
          for (const name of order) {
            log(`round ${round + 1}/${ROUNDS}: ${name}, -P ${pipeline}`);
            const before = cpuSeconds(servers[name].pid);
            const { SET } = await setRun(name, pipeline);
            cpu[pipeline][name] =
              (cpu[pipeline][name] ?? 0) + cpuSeconds(servers[name].pid) - before;
            if (!best[pipeline][name] || SET.rps > best[pipeline][name].rps)
              best[pipeline][name] = SET;
          }
        }
      }
      await processes.stopAll();

      log('three durable nodes, RF 3, W 2, under kv bench -w w');
      const cluster = await startKv(processes, {
        nodes: 3,
        replicationFactor: 3,
        writeQuorum: 2,
        dataRoot: path.join(root, 'cluster'),
        nodeArgs: ['--fsync', 'always'],
      });
      const clusterRun = await kvBench(processes, cluster.coordinator, [
        ...['-w', 'w', '--duration', String(CLUSTER_SECONDS), '--warmup', '1', '--no-load'],
        ...['--keys', String(SIZE_KEYS), '--concurrency', String(CLIENTS)],
      ]);
      await processes.stopAll();

      log(`disk use of ${SIZE_KEYS.toLocaleString('en-US')} random keys of ${VALUE_BYTES} B`);
      const sizeKv = await startKv(processes, {
        dataRoot: path.join(root, 'size-kv'),
        nodeArgs: ['--fsync', 'always'],
      });
      const aofDir = mkdir(root, 'size-redis');
      const sizeRedis = await startRedis(processes, { appendfsync: 'always', dir: aofDir });
      const disk = {};
      for (const [name, port, dir] of [
        ['kv', sizeKv.nodePorts[0], sizeKv.nodeDirs[0]],
        ['redis', sizeRedis.port, aofDir],
      ]) {
        await redisBenchmark(processes, port, {
          tests: 'set',
          n: SIZE_KEYS,
          clients: CLIENTS,
          keyspace: SIZE_KEYS,
          dataBytes: VALUE_BYTES,
        });
        const keys = await keysOf(port);
        const log = path.join(dir, 'lmdb', 'log');
        disk[name] = { keys, bytes: diskBytes(dir), log: fs.existsSync(log) ? diskBytes(log) : 0 };
      }
      await processes.stopAll();

      const restart = await restartTime(processes, root, log, {
        keys: RESTART_KEYS,
        loadFsync: 'never',
        name: 'restart',
      });
      const restartMet = restart.ms <= RESTART_TARGET_MS;
      await processes.stopAll();
      const replay = await restartTime(processes, root, log, {
        keys: REPLAY_KEYS,
        loadFsync: 'always',
        name: 'replay',
      });

      const rows = [];
      let met = 0;
      for (const pipeline of [1, 16]) {
        const { kv: k, always, everysec } = best[pipeline];
        const ratio = k.rps / always.rps;
        const ok = ratio >= TARGETS[pipeline];
        if (ok) met++;
        rows.push([
          `SET -P ${pipeline}`,
          `${opsPerSec(k.rps)} (p50 ${ms(k.p50Ms)})`,
          `${opsPerSec(always.rps)} (p50 ${ms(always.p50Ms)})`,
          `${opsPerSec(everysec.rps)} (p50 ${ms(everysec.p50Ms)})`,
          `${ratio.toFixed(2)}×`,
          `≥ ${TARGETS[pipeline]}×`,
          ok ? 'met' : 'NOT met',
        ]);
      }
      // Microseconds of the server's CPU per request, over every round.
      const perRequest = (pipeline, name) =>
        `${((cpu[pipeline][name] / (ROUNDS * REQUESTS[pipeline])) * 1e6).toFixed(1)} µs`;
      const cpuLine = (pipeline) =>
        `server CPU per SET at -P ${pipeline} (user + system, all rounds): kv --fsync always ` +
        `${perRequest(pipeline, 'kv')}, kv in memory ${perRequest(pipeline, 'memory')} ` +
        `(${opsPerSec(best[pipeline].memory.rps)}), Redis always ${perRequest(pipeline, 'always')}, ` +
        `Redis everysec ${perRequest(pipeline, 'everysec')}, node-aof-server ${perRequest(pipeline, 'nodeAof')}`;
      // The reference: what a Node.js server doing no more than Redis's AOF work reaches.
      const nodeAofLine = (pipeline) =>
        `node-aof-server (no store) at -P ${pipeline}: ${opsPerSec(best[pipeline].nodeAof.rps)} ` +
        `(p50 ${ms(best[pipeline].nodeAof.p50Ms)}), ÷ Redis always ` +
        `${(best[pipeline].nodeAof.rps / best[pipeline].always.rps).toFixed(2)}×; kv ÷ it ` +
        `${(best[pipeline].kv.rps / best[pipeline].nodeAof.rps).toFixed(2)}×`;
      const perKey = (d) =>
        `${Math.round(d.bytes / d.keys)} B/key (${d.keys.toLocaleString('en-US')} keys)`;
      return {
        headers: [
          'test',
          'kv --fsync always',
          `redis ${redisVersion()} AOF always`,
          'redis AOF everysec',
          'kv ÷ redis always',
          'target',
          'met',
        ],
        rows,
        summary: [
          met === 2 ? 'both targets met' : `${2 - met} of 2 targets NOT met`,
          nodeAofLine(1),
          nodeAofLine(16),
          cpuLine(1),
          cpuLine(16),
          `3 nodes, RF 3, W 2, --fsync always, kv bench -w w: ${opsPerSec(clusterRun.opsPerSec)} ` +
            `(p50 ${ms(clusterRun.latencyMs.p50)}, p99 ${ms(clusterRun.latencyMs.p99)}, errors ${clusterRun.errors})`,
          `disk after ${SIZE_KEYS.toLocaleString('en-US')} SETs of ${VALUE_BYTES} B on random keys: ` +
            `kv ${perKey(disk.kv)}, of which the write-ahead log's segments (zero-filled ahead, ` +
            `${(disk.kv.log / 2 ** 20).toFixed(1)} MiB whatever the keys) ${Math.round(disk.kv.log / disk.kv.keys)} B/key; ` +
            `Redis AOF ${perKey(disk.redis)}`,
          `restart of a node holding ${restart.keys.toLocaleString('en-US')} keys of ${VALUE_BYTES} B ` +
            `(${(restart.bytes / 2 ** 20).toFixed(0)} MiB on disk), SIGKILLed, from process start to serving ` +
            `a GET of its data: ${(restart.ms / 1000).toFixed(2)} s (target ≤ ${RESTART_TARGET_MS / 1000} s ` +
            `plus catch-up: ${restartMet ? 'met' : 'NOT met'})`,
          `restart of a node SIGKILLed right after ${replay.keys.toLocaleString('en-US')} writes of ` +
            `${VALUE_BYTES} B acknowledged under --fsync always, replaying ${replay.replayed.toLocaleString('en-US')} ` +
            `of them from its write-ahead log, to serving a GET of the last: ${(replay.ms / 1000).toFixed(2)} s`,
        ],
      };
    } finally {
      await processes.stopAll();
      fs.rmSync(root, { recursive: true, force: true });
    }
  },
};

function mkdir(root, name) {
  const dir = path.join(root, name);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}
