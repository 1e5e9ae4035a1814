'use strict';
// kv processes for the suites: a coordinator and storage nodes from the built bins, and
// `kv bench` runs, all on free loopback ports.
const fs = require('node:fs');
const path = require('node:path');
const { RespConnection, connectTls, handshakeFor, readClusterSecret } = require('@kv/protocol');
const { decodeRingReply } = require('@kv/ring');
const { freePort, waitFor } = require('./processes.cjs');

const root = path.join(__dirname, '..', '..');
const BINS = {
  coordinator: path.join(root, 'packages', 'coordinator', 'dist', 'bin.js'),
  node: path.join(root, 'packages', 'node', 'dist', 'bin.js'),
  kv: path.join(root, 'packages', 'cli', 'dist', 'bin.js'),
};

function assertBuilt() {
  for (const [name, bin] of Object.entries(BINS)) {
    if (!fs.existsSync(bin)) throw new Error(`${bin} (${name}) is missing: run npm run build`);
  }
}

/**
 * One request to 127.0.0.1:port (through `connect`, a TLS dialler for TLS servers);
 * undefined when it cannot be sent or fails.
 */
async function askOnce(
  port,
  command,
  timeoutMs = 2000,
  connect = undefined,
  handshake = undefined,
) {
  let connection;
  try {
    connection = await RespConnection.connect({
      port,
      connectTimeoutMs: timeoutMs,
      requestTimeoutMs: timeoutMs,
      ...(connect && { connect }),
      ...(handshake && { handshake }),
    });
    return await connection.send(command);
  } catch {
    return undefined;
  } finally {
    connection?.destroy();
  }
}

/** One request that must succeed; its error says which. */
async function command(port, args, timeoutMs = 60_000) {
  const connection = await RespConnection.connect({
    port,
    connectTimeoutMs: 2000,
    requestTimeoutMs: timeoutMs,
  });
  try {
    return await connection.send(args);
  } finally {
    connection.destroy();
  }
}

function ringEpoch(info) {
  const match = Buffer.isBuffer(info) ? /^ring_epoch:(\d+)/m.exec(info.toString()) : null;
  return match ? Number(match[1]) : -1;
}

/**
 * Starts a coordinator and `nodes` storage nodes as child processes and waits until every
 * node routes with the full ring. Logging is at `warn`, so the processes spend nothing on
 * log lines while measured.
 *
 * With `tls` (the files of createDevCertificates), every process speaks TLS only. With
 * `secretFile`, every process runs with that cluster secret (and this helper's own requests
 * authenticate as a member).
 * With `dataRoot`, node i keeps its records in `<dataRoot>/node-<port>` (the LMDB engine).
 * `nodeArgs` adds flags to every node: an array, or `nodeArgs(i)` for node i (it may be
 * async, to pick a free port).
 *
 * @returns { coordinator: 'host:port', coordinatorPort, nodePorts, nodeDirs, nodes: [proc], all: [proc] }
 */
async function startKv(
  processes,
  {
    nodes = 1,
    replicationFactor = 1,
    writeQuorum = 1,
    tls = undefined,
    secretFile = undefined,
    dataRoot = undefined,
    nodeArgs = [],
  } = {},
) {
  const tlsArgs = [
    ...(tls ? ['--tls-cert', tls.cert, '--tls-key', tls.key, '--tls-ca', tls.ca] : []),
    ...(secretFile ? ['--cluster-secret-file', secretFile] : []),
  ];
  const connect = tls ? connectTls({ ca: fs.readFileSync(tls.ca) }) : undefined;
  const handshake = secretFile
    ? handshakeFor({ clusterSecret: readClusterSecret(secretFile) })
    : undefined;
  const ask = (port, args) => askOnce(port, args, 2000, connect, handshake);
  assertBuilt();
  const coordinatorPort = await freePort();
  const coordinator = `127.0.0.1:${coordinatorPort}`;
  const quiet = ['--log-level', 'warn'];
  const coordinatorProc = processes.start('kv coordinator', process.execPath, [
    BINS.coordinator,
    ...['--port', String(coordinatorPort), '--replication-factor', String(replicationFactor)],
    ...tlsArgs,
    ...quiet,
  ]);
  await waitFor(
    async () => Array.isArray(await ask(coordinatorPort, ['LIST_NODES'])),
    'the coordinator',
    {
      watch: [coordinatorProc],
    },
  );
  const nodePorts = [];
  const nodeDirs = [];
  const nodeProcs = [];
  for (let i = 0; i < nodes; i++) {
    const port = await freePort();
    nodePorts.push(port);
    const dir = dataRoot === undefined ? undefined : path.join(dataRoot, `node-${port}`);
    nodeDirs.push(dir);
    nodeProcs.push(
      processes.start(`kv node ${port}`, process.execPath, [
        BINS.node,
        ...['--port', String(port), '--coordinator', coordinator],
        ...['--replication-factor', String(replicationFactor)],
        ...['--write-quorum', String(writeQuorum)],
        ...tlsArgs,
        ...(dir === undefined ? [] : ['--data-dir', dir]),
        ...(typeof nodeArgs === 'function' ? await nodeArgs(i) : nodeArgs),
        ...quiet,
      ]),
    );
  }
  const all = [coordinatorProc, ...nodeProcs];
  await waitFor(
    async () => {
      const members = await ask(coordinatorPort, ['LIST_NODES']);
      // Nodes join first (they copy their ranges), then serve: wait until all are up.
      return (
        Array.isArray(members) &&
        members.length === nodes &&
        members.every((m) => Array.isArray(m) && String(m[1]) === 'up')
      );
    },
    `${nodes} node(s) to join`,
    { watch: all },
  );
  await waitFor(
    async () => {
      const ring = await ask(coordinatorPort, ['RING']);
      const epoch = ring === undefined ? NaN : decodeRingReply(ring).epoch;
      const epochs = await Promise.all(nodePorts.map((p) => ask(p, ['INFO', 'replication'])));
      return epochs.every((info) => ringEpoch(info) >= epoch);
    },
    'every node to route with the full ring',
    { watch: all },
  );
  return { coordinator, coordinatorPort, nodePorts, nodeDirs, nodes: nodeProcs, all };
}

/** Runs `kv bench --json` with `args` and returns its report. */
async function kvBench(processes, coordinator, args) {
  const stdout = await processes.run('kv bench', process.execPath, [
    BINS.kv,
    'bench',
    '--json',
    '--coordinator',
    coordinator,
    ...args,
  ]);
  return JSON.parse(stdout);
}

module.exports = { startKv, kvBench, ask: askOnce, command, BINS };
