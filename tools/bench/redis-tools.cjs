'use strict';
// redis-server and redis-benchmark (Debian packages redis-server and redis-tools) for the
// suites that compare kv with Redis on the same machine in the same run.
const { spawnSync } = require('node:child_process');
const { ask } = require('./kv-servers.cjs');
const { freePort, waitFor } = require('./processes.cjs');

const INSTALL_HINT = 'install them with `apt-get install redis-server redis-tools`';

/** Fails, saying how to install them, unless redis-server and redis-benchmark can be run. */
function requireRedisTools() {
  const missing = ['redis-server', 'redis-benchmark'].filter((tool) => {
    const probe = spawnSync(tool, ['--version'], { encoding: 'utf8' });
    return probe.error !== undefined || probe.status !== 0;
  });
  if (missing.length > 0) {
    throw new Error(
      `${missing.join(' and ')} not found: this suite compares kv with Redis and needs both; ` +
        `${INSTALL_HINT}, then run it again. No figures were written.`,
    );
  }
}

/** The version line of redis-server, e.g. `7.0.15`. */
function redisVersion() {
  const out = spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout ?? '';
  return /v=(\S+)/.exec(out)?.[1] ?? 'unknown';
}

/**
 * Starts redis-server on a free port and resolves when it answers PING: without persistence,
 * or with `{ appendfsync, dir }` an append-only file in `dir` synced as `appendfsync` says
 * (`always`, `everysec`).
 */
async function startRedis(processes, { appendfsync, dir } = {}) {
  const port = await freePort();
  const persistence =
    appendfsync === undefined
      ? ['--appendonly', 'no']
      : ['--appendonly', 'yes', '--appendfsync', appendfsync, '--dir', dir];
  const proc = processes.start('redis-server', 'redis-server', [
    ...['--port', String(port), '--bind', '127.0.0.1'],
    ...['--save', '', ...persistence],
  ]);
  await waitFor(async () => (await ask(port, ['PING'])) !== undefined, 'redis-server', {
    watch: [proc],
  });
  return { port, proc };
}

/**
 * Runs redis-benchmark against 127.0.0.1:port and returns, per test name (SET, GET),
 * { rps, p50Ms, p99Ms } from its `--csv` output.
 */
async function redisBenchmark(
  processes,
  port,
  { tests = 'set,get', n, clients = 50, pipeline = 1, keyspace, dataBytes },
) {
  const args = ['-h', '127.0.0.1', '-p', String(port), '-t', tests, '-n', String(n)];
  args.push('-c', String(clients), '-P', String(pipeline), '-q', '--csv');
  if (keyspace !== undefined) args.push('-r', String(keyspace));
  if (dataBytes !== undefined) args.push('-d', String(dataBytes));
  const stdout = await processes.run('redis-benchmark', 'redis-benchmark', args);
  return parseCsv(stdout);
}

/** `"test","rps",...` rows of redis-benchmark --csv to { TEST: { rps, p50Ms, p99Ms } }. */
function parseCsv(text) {
  const rows = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('"'))
    .map((l) => l.split(',').map((cell) => cell.replace(/^"|"$/g, '')));
  const [header, ...data] = rows;
  if (!header || header[0] !== 'test')
    throw new Error(`unexpected redis-benchmark output:\n${text}`);
  const column = (name) => header.indexOf(name);
  const results = {};
  for (const row of data) {
    results[row[0]] = {
      rps: Number(row[column('rps')]),
      p50Ms: Number(row[column('p50_latency_ms')]),
      p99Ms: Number(row[column('p99_latency_ms')]),
    };
  }
  return results;
}

module.exports = { requireRedisTools, redisVersion, startRedis, redisBenchmark, parseCsv };
