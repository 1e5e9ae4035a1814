import { ReplyError } from '@kv/protocol';
import { binPath } from '../harness/bins';
import { openClient } from '../harness/clients';
import { Cluster } from '../harness/cluster';
import { addressOf } from '../harness/endpoint';
import { freePort, HOST } from '../harness/free-port';
import { coordinatorLog, escapeRegExp } from '../harness/log-lines';
import { ManagedProcess } from '../harness/managed-process';
import { MARGIN_MS } from '../harness/margin';
import { memberIds, send, text } from '../harness/resp';
import { runKvCommand } from '../harness/run-command';
import { clientTls, kvTlsFlags, makeTestCertificates, type TestCertificates } from '../harness/tls';

// The failure checks of primary-killed and replica-loss, on a cluster where every
// connection (clients, node to node, node to coordinator) is mutual TLS.

const FAILURE_TIMEOUT_MS = 4000;

let certs: TestCertificates;

beforeAll(async () => {
  certs = await makeTestCertificates();
});
afterAll(() => certs.remove());

function startCluster(): Promise<Cluster> {
  return Cluster.start({
    nodes: 3,
    failureTimeoutMs: FAILURE_TIMEOUT_MS,
    tls: { files: certs.cluster, clientCerts: true },
  });
}

describe('a cluster speaking mutual TLS', () => {
  it('primary killed: the value is served from a replica, and the primary is removed', async () => {
    const cluster = await startCluster();
    expect(cluster.coordinator.output()).toMatch(
      /\[Coordinator\] Started on \S+ \(TLS, client certificates required\)/,
    );
    const client = openClient({
      coordinator: cluster.coordinatorAddress,
      requestTimeoutMs: 2000,
      tls: clientTls(certs.cluster),
    });
    await client.put('user:1', 'Alice');
    const [primary, ...replicas] = await cluster.replicaSet('user:1');
    const from = cluster.coordinator.mark;

    await primary.process.kill();

    const entry = await client.getEntry('user:1');
    expect(entry.value?.toString()).toBe('Alice');
    expect(entry).toMatchObject({ primary: primary.id, fromReplica: true });
    const flags = kvTlsFlags(certs.cluster);
    const cli = await runKvCommand(cluster.coordinatorAddress, 'GET user:1', flags);
    expect({ code: cli.status.code, transcript: cli.transcript }).toEqual({
      code: 0,
      transcript: expect.stringMatching(
        new RegExp(
          `\\[Client\\] GET user:1 = Alice \\(from replica (${replicas.map((r) => escapeRegExp(r.id)).join('|')})\\)$`,
          'm',
        ),
      ) as unknown,
    });

    await cluster.coordinator.waitForLine(
      coordinatorLog.dead(primary.id),
      FAILURE_TIMEOUT_MS + MARGIN_MS,
      from,
    );
    expect(await memberIds(cluster.coordinatorEndpoint)).toEqual(replicas.map((r) => r.id).sort());
  });

  it('two replicas dead: a W=2 PUT fails with UNAVAILABLE, the survivor still serves reads', async () => {
    const cluster = await startCluster();
    const client = openClient({
      coordinator: cluster.coordinatorAddress,
      retries: 0,
      tls: clientTls(certs.cluster),
    });
    await client.put('old:1', 'value 1');
    const [survivor, ...lost] = await cluster.replicaSet('k');
    await Promise.all(lost.map((n) => n.process.kill()));

    await expect(send(survivor.endpoint, ['PUT', 'k', 'new', 'W', '2'])).rejects.toThrow(
      new ReplyError('UNAVAILABLE 1 of 2 replicas acknowledged'),
    );
    const cli = await runKvCommand(
      cluster.coordinatorAddress,
      'PUT k new3',
      kvTlsFlags(certs.cluster),
    );
    expect(cli.status.code).toBe(3);
    expect(cli.stdout + cli.stderr).toMatch(/UNAVAILABLE 1 of 2 replicas acknowledged/);
    expect(text(await send(survivor.endpoint, ['GET', 'old:1']))).toBe('value 1');
    expect(await client.getString('old:1')).toBe('value 1');
  });

  it('refuses a node whose certificate another CA signed, and a CLI without a certificate', async () => {
    const cluster = await Cluster.start({
      nodes: 1,
      tls: { files: certs.cluster, clientCerts: true },
    });
    const from = cluster.coordinator.mark;
    const port = await freePort();
    // It trusts the cluster's CA, but presents the other CA's certificate.
    const outsider = ManagedProcess.start({
      name: `node ${HOST}:${port} (other CA)`,
      command: process.execPath,
      args: [
        binPath('@kv/node'),
        ...['--host', HOST, '--port', String(port), '--coordinator', cluster.coordinatorAddress],
        ...['--heartbeat-interval', '200'],
        ...['--tls-cert', certs.other.cert, '--tls-key', certs.other.key],
        ...['--tls-ca', certs.cluster.ca, '--tls-client-certs'],
      ],
    });
    await cluster.coordinator.waitForLine(
      /^\[Coordinator\] TLS handshake with 127\.0\.0\.1:\d+ failed: client certificate refused \(\w+\)$/,
      10_000,
      from,
    );
    await outsider.waitForLine(
      /Cannot reach the coordinator at \S+ \(connection to \S+ closed by the server before any reply/,
      10_000,
    );
    expect(await memberIds(cluster.coordinatorEndpoint)).toEqual([cluster.node(0).id]);

    const noCert = await runKvCommand(cluster.coordinatorAddress, 'GET k', [
      '--tls-ca',
      certs.cluster.ca,
    ]);
    expect(noCert.status.code).toBe(3);
    expect(noCert.stderr).toContain(
      `kv: cannot reach coordinator at ${addressOf(cluster.coordinatorEndpoint)} (connection to`,
    );
    expect(cluster.coordinator.running).toBe(true);
  });
});
