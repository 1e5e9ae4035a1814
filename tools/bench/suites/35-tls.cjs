'use strict';
// One kv node over TLS against the same node over plain TCP, both under redis-benchmark:
// what TLS costs per request, with and without client pipelining.
const { mkdtemp, rm } = require('node:fs/promises');
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
  title: 'One kv node over TLS vs plain TCP under redis-benchmark',
  description:
    'Two clusters of a coordinator and one `kv-node` started from the built bins, with no replication ' +
    '(`--replication-factor 1 --write-quorum 1`): one plain, one with `--tls-cert`, `--tls-key`, `--tls-ca` ' +
    '(a development CA and P-256 certificates made by `createDevCertificates`). Both are driven by ' +
    `\`redis-benchmark -t set,get -c ${CLIENTS} -P <1|16>\` (-n ${REQUESTS[1].toLocaleString('en-US')} at -P 1, ` +
    `${REQUESTS[16].toLocaleString('en-US')} at -P 16), with \`--tls --cacert ca.pem\` for the TLS node; the ` +
    `${CLIENTS} connections are opened (and their handshakes made) once per run. ${ROUNDS} alternating rounds, ` +
    'the best rate of each kept. Target: TLS ÷ plain ≥ 0.6 at -P 16.',
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
      const targets = {
        plain: { port: plain.nodePorts[0] },
        tls: { port: tls.nodePorts[0], cacert: certs.ca },
      };
      const best = await bestOfRounds(processes, targets, {
        rounds: ROUNDS,
        pipelines: [1, 16],
        requests: (pipeline) => REQUESTS[pipeline],
        clients: CLIENTS,
        log,
      });
      const { rows, summary } = ratioRows(best, {
        columns: ['plain', 'tls'],
        numerator: 'tls',
        denominator: 'plain',
        targets: TARGETS,
      });
      return {
        headers: ['test', 'plain TCP', 'TLS', 'TLS ÷ plain', 'target', 'met'],
        rows,
        summary,
        notes:
          'Reproduce with `npm run bench -- tls` (or, with the packages built, `node tools/bench/run.cjs tls`). ' +
          'At -P 1 every request is a round trip of its own, so the encryption of each small record and ' +
          'the extra system calls weigh most; with -P 16 they are shared by sixteen requests.',
      };
    } finally {
      await processes.stopAll();
      await rm(dir, { recursive: true, force: true });
    }
  },
};
