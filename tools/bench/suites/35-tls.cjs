'use strict';
// One kv node over TLS, and one whose clients AUTH as a user, against the same node over
// plain TCP, all under redis-benchmark: what TLS and AUTH cost per request, with and
// without client pipelining.
const { randomBytes } = require('node:crypto');
const { mkdtemp, rm, writeFile } = require('node:fs/promises');
const os = require('node:os');
const path = require('node:path');
const { createDevCertificates } = require('@kv/protocol');
const { startKv } = require('../kv-servers.cjs');
const { Processes } = require('../processes.cjs');
const { bestOfRounds, ratioRows, requireRedisTools } = require('../redis-tools.cjs');

const REQUESTS = { 1: 20_000, 16: 200_000 };
const CLIENTS = 50;
const ROUNDS = 2;
const TARGETS = { 16: 0.6 };

module.exports = {
  name: 'tls',
  title: 'One kv node over TLS, and with AUTH, vs plain TCP under redis-benchmark',
  description:
    'Two clusters of a coordinator and one `kv-node` started from the built bins, with no replication ' +
    '(`--replication-factor 1 --write-quorum 1`): one plain, one with `--tls-cert`, `--tls-key`, `--tls-ca` ' +
    '(a development CA and P-256 certificates made by `createDevCertificates`). Both are driven by ' +
    `\`redis-benchmark -t set,get -c ${CLIENTS} -P <1|16>\` (-n ${REQUESTS[1].toLocaleString('en-US')} at -P 1, ` +
    `${REQUESTS[16].toLocaleString('en-US')} at -P 16), with \`--tls --cacert ca.pem\` for the TLS node; the ` +
    `${CLIENTS} connections are opened (and their handshakes made) once per run. ${ROUNDS} alternating rounds, ` +
    'the best rate of each kept. A third cluster runs with a cluster secret and a users file; its node is ' +
    'driven with `-a <password>` (each connection sends `AUTH` once, then every command passes the access ' +
    'check). Target: TLS ÷ plain ≥ 0.6 at -P 16.',
  async run({ log }) {
    requireRedisTools(['redis-benchmark']);
    const processes = new Processes();
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kv-bench-tls-'));
    try {
      const certs = await createDevCertificates(dir);
      log('starting a plain kv node and a TLS kv node (RF 1)');
      const plain = await startKv(processes, { nodes: 1, replicationFactor: 1, writeQuorum: 1 });
      const tls = await startKv(processes, {
        nodes: 1,
        replicationFactor: 1,
        writeQuorum: 1,
        tls: certs,
      });
      const secretFile = path.join(dir, 'cluster.secret');
      const usersFile = path.join(dir, 'users');
      const password = randomBytes(16).toString('hex');
      await writeFile(secretFile, randomBytes(32).toString('hex'), { mode: 0o600 });
      await writeFile(usersFile, `default read-write >${password}\n`, { mode: 0o600 });
      log('starting a kv node with users (AUTH)');
      const auth = await startKv(processes, {
        nodes: 1,
        replicationFactor: 1,
        writeQuorum: 1,
        secretFile,
        nodeArgs: ['--users-file', usersFile],
      });
      const targets = {
        plain: { port: plain.nodePorts[0] },
        tls: { port: tls.nodePorts[0], cacert: certs.ca },
        auth: { port: auth.nodePorts[0], password },
      };
      const best = await bestOfRounds(processes, targets, {
        rounds: ROUNDS,
        pipelines: [1, 16],
        requests: (pipeline) => REQUESTS[pipeline],
        clients: CLIENTS,
        log,
      });
      const tlsRows = ratioRows(best, {
        columns: ['plain', 'tls'],
        numerator: 'tls',
        denominator: 'plain',
        targets: TARGETS,
      });
      const authRows = ratioRows(best, {
        columns: ['plain', 'auth'],
        numerator: 'auth',
        denominator: 'plain',
        targets: {},
      });
      return {
        headers: ['test', 'plain TCP', 'TLS or AUTH', '÷ plain', 'target', 'met'],
        rows: [
          ...tlsRows.rows.map(([test, ...rest]) => [`TLS ${test}`, ...rest]),
          ...authRows.rows.map(([test, ...rest]) => [`AUTH ${test}`, ...rest]),
        ],
        summary: tlsRows.summary,
        notes:
          'Reproduce with `npm run bench -- tls` (or, with the packages built, `node tools/bench/run.cjs tls`). ' +
          'At -P 1 every request is a round trip of its own, so the encryption of each small record and ' +
          'the extra system calls are its own; with -P 16 they are shared by sixteen requests. Rates at -P 1 ' +
          'also move most from run to run on a shared machine, so one run can show a smaller cost there.',
      };
    } finally {
      await processes.stopAll();
      await rm(dir, { recursive: true, force: true });
    }
  },
};
