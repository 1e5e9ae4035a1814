'use strict';
// Data movement: 100,000 keys of 100 bytes on three nodes; a fourth node joins at the
// default stream rate. Measures the time until it serves reads, the bytes moved against
// the minimum the ring change requires, and client throughput before and during the move.
const { createClient } = require('@kv/client');
const { Ring } = require('@kv/ring');
const { Processes, freePort, waitFor } = require('../processes.cjs');
const { BINS, ask, startKv } = require('../kv-servers.cjs');
const { opsPerSec } = require('../report.cjs');

const KEYS = 100_000;
const VALUE = Buffer.alloc(100, 'v');
const WORKERS = 32;
const SAMPLE_MS = 5000;

const keyOf = (i) => `key:${String(i).padStart(6, '0')}`;

/** The `INFO rebalance` fields of a node. */
async function rebalanceInfo(port) {
  const text = String((await ask(port, ['INFO', 'rebalance'])) ?? '');
  const fields = {};
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) fields[line.slice(0, colon)] = line.slice(colon + 1);
  }
  return fields;
}

/** Closed-loop 50/50 read/update load from WORKERS concurrent requests until stopped. */
function startLoad(client) {
  let ops = 0;
  let errors = 0;
  let since = Date.now();
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
  return {
    /** Starts a new measurement window. */
    reset() {
      ops = 0;
      errors = 0;
      since = Date.now();
    },
    window: () => ({ rate: ops / ((Date.now() - since) / 1000), errors }),
    async stop() {
      running = false;
      await done;
    },
  };
}

async function run({ log }) {
  const processes = new Processes();
  let client;
  try {
    const kv = await startKv(processes, { nodes: 3, replicationFactor: 3, writeQuorum: 2 });
    client = createClient({ coordinator: kv.coordinator, refreshIntervalMs: 500 });
    log(`loading ${KEYS.toLocaleString('en-US')} keys of ${VALUE.length} bytes`);
    for (let i = 0; i < KEYS; i += 1000) {
      const batch = Array.from({ length: Math.min(1000, KEYS - i) }, (_, j) => keyOf(i + j));
      await Promise.all(batch.map((k) => client.put(k, VALUE, { writeQuorum: 3 })));
    }
    const load = startLoad(client);
    await new Promise((r) => setTimeout(r, 1000));
    load.reset();
    await new Promise((r) => setTimeout(r, SAMPLE_MS));
    const before = load.window();

    const port = await freePort();
    const joining = `127.0.0.1:${port}`;
    log(`starting a fourth node, ${joining}`);
    load.reset();
    const started = Date.now();
    const node = processes.start(`kv node ${port}`, process.execPath, [
      BINS.node,
      ...['--port', String(port), '--coordinator', kv.coordinator, '--log-level', 'warn'],
    ]);
    await waitFor(
      async () => (await rebalanceInfo(port)).phase === 'serving',
      'the fourth node to serve reads',
      { timeoutMs: 600_000, watch: [...kv.all, node] },
    );
    const joinMs = Date.now() - started;
    const during = load.window();
    await load.stop();

    const ids = [...kv.nodePorts, port].map((p) => `127.0.0.1:${p}`);
    const ring = new Ring(ids);
    let gained = 0;
    for (let i = 0; i < KEYS; i++) if (ring.preferenceList(keyOf(i)).includes(joining)) gained++;
    let keysMoved = 0;
    let bytesMoved = 0;
    for (const p of [...kv.nodePorts, port]) {
      const fields = await rebalanceInfo(p);
      keysMoved += Number(fields.keys_received) + Number(fields.keys_sent);
      bytesMoved += Number(fields.bytes_received) + Number(fields.bytes_sent);
    }
    const minimumBytes = gained * (keyOf(0).length + VALUE.length);
    const mib = (b) => `${(b / 2 ** 20).toFixed(1)} MiB`;
    const times = (x) => `${x.toFixed(2)}×`;
    return {
      headers: ['measure', 'value'],
      rows: [
        ['time for a 4th node to join (until it serves reads)', `${(joinMs / 1000).toFixed(1)} s`],
        ['keys the new node must hold (ring minimum)', gained.toLocaleString('en-US')],
        [
          'keys moved',
          `${keysMoved.toLocaleString('en-US')} (${times(keysMoved / gained)} the minimum)`,
        ],
        [
          'bytes moved (records with versions)',
          `${mib(bytesMoved)} vs ${mib(minimumBytes)} of keys and values (${times(bytesMoved / minimumBytes)})`,
        ],
        [`client throughput before (50/50 get/put, ${WORKERS} in flight)`, opsPerSec(before.rate)],
        [
          'client throughput during the join',
          `${opsPerSec(during.rate)} (${times(during.rate / before.rate)} before)`,
        ],
        ['client errors before / during the join', `${before.errors} / ${during.errors}`],
      ],
      summary: [
        'The join time includes two heartbeat intervals (2 s at the default 1 s) of settling: the round that lets the node serve starts that long after it began taking writes.',
      ],
    };
  } finally {
    await client?.close();
    await processes.stopAll();
  }
}

module.exports = {
  name: 'rebalance',
  title: 'Joining a node: 100,000 keys of 100 bytes',
  description:
    'Three nodes (RF 3, W 2) hold 100,000 keys of 100 bytes; a fourth node joins at the default `--stream-rate` (32 MiB/s) while @kv/client runs a 50/50 read/update load. Moved counts every record copied in by sync rounds or pushed by hand-off (key, value and version), against the keys and values the new node must hold.',
  run,
};
