'use strict';
// Data movement: 100,000 keys of 100 bytes on three nodes; a fourth node joins at the
// default stream rate. Measures the time until it serves reads, the bytes moved against
// the minimum the ring change requires, and client throughput before and during the move.
const { spawn } = require('node:child_process');
const net = require('node:net');
const path = require('node:path');
const { createClient } = require('@kv/client');
const { RespConnection } = require('@kv/protocol');
const { Ring } = require('@kv/ring');
const { opsPerSec } = require('../report.cjs');

const KEYS = 100_000;
const VALUE = Buffer.alloc(100, 'v');
const WORKERS = 32;
const SAMPLE_MS = 5000;
const root = path.join(__dirname, '..', '..', '..');
const bins = {
  coordinator: path.join(root, 'packages/coordinator/dist/bin.js'),
  node: path.join(root, 'packages/node/dist/bin.js'),
};

const keyOf = (i) => `key:${String(i).padStart(6, '0')}`;

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function start(processes, bin, args) {
  const child = spawn(process.execPath, [bin, ...args], { stdio: 'ignore' });
  processes.push(child);
  return child;
}

async function send(port, args) {
  const connection = await RespConnection.connect({ port, requestTimeoutMs: 10_000 });
  try {
    return await connection.send(args);
  } finally {
    connection.destroy();
  }
}

async function info(port) {
  const text = String(await send(port, ['INFO', 'rebalance']));
  return Object.fromEntries(
    text
      .split('\r\n')
      .filter((l) => l.includes(':'))
      .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)]),
  );
}

async function until(what, condition, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await condition()) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Closed-loop 50/50 read/update load from WORKERS concurrent requests until stopped. */
function load(client) {
  let ops = 0;
  let errors = 0;
  let running = true;
  const worker = async (w) => {
    for (let i = w; running; i += WORKERS) {
      const key = keyOf((i * 7919) % KEYS);
      try {
        if (i % 2 === 0) await client.get(key);
        else await client.put(key, VALUE);
        ops++;
      } catch {
        errors++;
      }
    }
  };
  const done = Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
  const started = Date.now();
  return {
    rate: () => ops / ((Date.now() - started) / 1000),
    reset() {
      ops = 0;
      errors = 0;
      return Date.now();
    },
    snapshot: () => ({ ops, errors }),
    async stop() {
      running = false;
      await done;
    },
  };
}

async function run({ log }) {
  const processes = [];
  const client = { current: undefined };
  try {
    const cport = await freePort();
    const ports = [await freePort(), await freePort(), await freePort(), await freePort()];
    const coordinator = `127.0.0.1:${cport}`;
    start(processes, bins.coordinator, ['--port', cport, '--log-level', 'warn']);
    await until('the coordinator', () => send(cport, ['PING']));
    for (const port of ports.slice(0, 3)) {
      start(processes, bins.node, [
        '--port',
        port,
        '--coordinator',
        coordinator,
        '--log-level',
        'warn',
      ]);
    }
    await until(
      'three serving nodes',
      async () =>
        (await send(cport, ['LIST_NODES'])).filter((m) => String(m[1]) === 'up').length === 3,
    );
    client.current = createClient({ coordinator, refreshIntervalMs: 500 });
    const c = client.current;
    log(`loading ${KEYS.toLocaleString('en-US')} keys of ${VALUE.length} bytes`);
    for (let i = 0; i < KEYS; i += 1000) {
      await Promise.all(
        Array.from({ length: Math.min(1000, KEYS - i) }, (_, j) =>
          c.put(keyOf(i + j), VALUE, { writeQuorum: 3 }),
        ),
      );
    }
    const traffic = load(c);
    await new Promise((r) => setTimeout(r, 1000));
    traffic.reset();
    await new Promise((r) => setTimeout(r, SAMPLE_MS));
    const before = traffic.rate();

    const joining = `127.0.0.1:${ports[3]}`;
    log(`starting a fourth node, ${joining}`);
    const t0 = traffic.reset();
    start(processes, bins.node, [
      '--port',
      ports[3],
      '--coordinator',
      coordinator,
      '--log-level',
      'warn',
    ]);
    await until(
      'the fourth node to serve reads',
      async () => (await info(ports[3])).phase === 'serving',
      600_000,
    );
    const joinMs = Date.now() - t0;
    const during = traffic.rate();
    const { errors } = traffic.snapshot();
    await traffic.stop();

    const ring = new Ring([
      '127.0.0.1:' + ports[0],
      '127.0.0.1:' + ports[1],
      '127.0.0.1:' + ports[2],
      joining,
    ]);
    let gained = 0;
    for (let i = 0; i < KEYS; i++) if (ring.preferenceList(keyOf(i)).includes(joining)) gained++;
    let keysMoved = 0;
    let bytesMoved = 0;
    for (const port of ports) {
      const fields = await info(port);
      keysMoved += Number(fields.keys_received) + Number(fields.keys_sent);
      bytesMoved += Number(fields.bytes_received) + Number(fields.bytes_sent);
    }
    const record = keyOf(0).length + VALUE.length;
    const minimumBytes = gained * record;
    const mib = (b) => `${(b / 2 ** 20).toFixed(1)} MiB`;
    return {
      headers: ['measure', 'value'],
      rows: [
        ['time to join a 4th node (until it serves reads)', `${(joinMs / 1000).toFixed(1)} s`],
        ['keys the new node had to receive (ring minimum)', gained.toLocaleString('en-US')],
        [
          'keys moved',
          `${keysMoved.toLocaleString('en-US')} (${(keysMoved / gained).toFixed(2)}× the minimum)`,
        ],
        [
          'bytes moved (records with versions)',
          `${mib(bytesMoved)} vs ${mib(minimumBytes)} of keys and values (${(bytesMoved / minimumBytes).toFixed(2)}×)`,
        ],
        ['client throughput before the join (50/50 get/put, 32 in flight)', opsPerSec(before)],
        [
          'client throughput during the join',
          `${opsPerSec(during)} (${(during / before).toFixed(2)}× before)`,
        ],
        ['client errors during the join', String(errors)],
      ],
      summary: [
        'The join time includes a fixed settling time of two heartbeat intervals (2 s at the default 1 s), so writers that raced the ring change are caught by a second sync round before the node serves reads.',
      ],
    };
  } finally {
    await client.current?.close();
    for (const child of processes) child.kill('SIGKILL');
  }
}

module.exports = {
  name: 'rebalance',
  title: 'Joining a node: 100,000 keys of 100 bytes',
  description:
    'Three nodes (RF 3) hold 100,000 keys of 100 bytes; a fourth node joins at the default `--stream-rate` while a client runs a 50/50 read/update load. Bytes moved count every record copied in or pushed (key, value, version), against the keys and values the new node must hold.',
  run,
};
