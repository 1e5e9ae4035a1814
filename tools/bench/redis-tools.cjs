'use strict';
// redis-server and redis-benchmark (Debian packages redis-server and redis-tools) for the
// suites that compare kv with Redis on the same machine in the same run.
const { spawnSync } = require('node:child_process');
const { ask } = require('./kv-servers.cjs');
const { freePort, waitFor } = require('./processes.cjs');
const { opsPerSec } = require('./report.cjs');

const INSTALL_HINT = 'install them with `apt-get install redis-server redis-tools`';

/**
 * Fails, saying how to install them, unless the tools (redis-server and redis-benchmark by
 * default) can be run.
 */
function requireRedisTools(tools = ['redis-server', 'redis-benchmark']) {
  const missing = tools.filter((tool) => {
    const probe = spawnSync(tool, ['--version'], { encoding: 'utf8' });
    return probe.error !== undefined || probe.status !== 0;
  });
  if (missing.length > 0) {
    throw new Error(
      `${missing.join(' and ')} not found: this suite runs ${tools.join(' and ')}; ` +
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
 * { rps, p50Ms, p99Ms } from its `--csv` output. With `cacert` (a CA file) it speaks TLS;
 * with `password` every connection sends `AUTH password` first.
 */
async function redisBenchmark(
  processes,
  port,
  { tests = 'set,get', n, clients = 50, pipeline = 1, keyspace, cacert, password, dataBytes },
) {
  const args = ['-h', '127.0.0.1', '-p', String(port), '-t', tests, '-n', String(n)];
  args.push('-c', String(clients), '-P', String(pipeline), '-q', '--csv');
  if (keyspace !== undefined) args.push('-r', String(keyspace));
  if (cacert !== undefined) args.push('--tls', '--cacert', cacert);
  if (password !== undefined) args.push('-a', password);
  if (dataBytes !== undefined) args.push('-d', String(dataBytes));
  const stdout = await processes.run('redis-benchmark', 'redis-benchmark', args);
  return parseCsv(stdout);
}

/**
 * redis-benchmark against each of `targets` ({ name: { port, cacert? } }) at each pipeline
 * depth, in `rounds` rounds whose order of targets alternates (first to last, then last to
 * first); the best rate of each is kept, so a burst of load from elsewhere on the machine
 * hurts no target more than another. `requests(pipeline)` is the -n of that depth.
 *
 * @returns best[pipeline][name][test] = { rps, p50Ms, p99Ms }
 */
async function bestOfRounds(processes, targets, { rounds, pipelines, requests, clients, log }) {
  const names = Object.keys(targets);
  const best = {};
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? names : [...names].reverse();
    for (const pipeline of pipelines) {
      best[pipeline] ??= Object.fromEntries(names.map((name) => [name, {}]));
      for (const name of order) {
        log(`round ${round + 1}/${rounds}: ${name}, -P ${pipeline}`);
        const { port, cacert, password } = targets[name];
        const results = await redisBenchmark(processes, port, {
          n: requests(pipeline),
          clients,
          pipeline,
          cacert,
          password,
        });
        for (const [test, r] of Object.entries(results)) {
          const held = best[pipeline][name][test];
          if (!held || r.rps > held.rps) best[pipeline][name][test] = r;
        }
      }
    }
  }
  return best;
}

/**
 * Rows comparing two targets of {@link bestOfRounds}, per pipeline depth and test: each
 * target's rate and p50 (in the order of `columns`), the ratio `numerator` ÷ `denominator`,
 * its target (`targets[pipeline]`, if there is one) and whether it is met; and the summary
 * line of the targets.
 */
function ratioRows(best, { columns, numerator, denominator, targets }) {
  const ms = (x) => `${x.toFixed(2)} ms`;
  const rows = [];
  let met = 0;
  let total = 0;
  for (const pipeline of Object.keys(best).map(Number)) {
    for (const test of ['SET', 'GET']) {
      const ratio = best[pipeline][numerator][test].rps / best[pipeline][denominator][test].rps;
      const target = targets[pipeline];
      const ok = target === undefined || ratio >= target;
      if (target !== undefined) {
        total++;
        if (ok) met++;
      }
      rows.push([
        `${test} -P ${pipeline}`,
        ...columns.map((name) => {
          const r = best[pipeline][name][test];
          return `${opsPerSec(r.rps)} (p50 ${ms(r.p50Ms)})`;
        }),
        `${ratio.toFixed(2)}×`,
        target === undefined ? '—' : `≥ ${target}×`,
        target === undefined ? '—' : ok ? 'met' : 'NOT met',
      ]);
    }
  }
  const summary =
    met === total ? `all ${total} targets met` : `${total - met} of ${total} targets NOT met`;
  return { rows, summary: [summary] };
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

module.exports = {
  requireRedisTools,
  redisVersion,
  startRedis,
  redisBenchmark,
  bestOfRounds,
  ratioRows,
  parseCsv,
};
