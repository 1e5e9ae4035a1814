import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCoordinator } from '@kv/coordinator';
import { startNode, type KvNode } from '@kv/node';
import { createDevCertificates, readPemFile, type DevCertificates } from '@kv/protocol';
import {
  createClient,
  CoordinatorUnreachableError,
  TlsConfigError,
  type ClientTlsOptions,
  type KvClient,
} from './index';

type Coordinator = Awaited<ReturnType<typeof startCoordinator>>;

let dir: string;
let certs: DevCertificates;
let other: DevCertificates;
let coordinator: Coordinator | undefined;
const nodes: KvNode[] = [];
const clients: KvClient[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kv-client-tls-'));
  [certs, other] = await Promise.all([
    createDevCertificates(join(dir, 'cluster')),
    createDevCertificates(join(dir, 'other')),
  ]);
});
afterAll(() => rm(dir, { recursive: true, force: true }));
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(nodes.splice(0).map((n) => n.close({ leave: false })));
  await coordinator?.close();
  coordinator = undefined;
});

/** A coordinator and two nodes speaking TLS only; resolves with the coordinator's address. */
async function tlsCluster(clientCerts = false): Promise<string> {
  const tls = {
    tlsCert: certs.cert,
    tlsKey: certs.key,
    tlsCa: certs.ca,
    tlsClientCerts: clientCerts,
  };
  coordinator = await startCoordinator({ port: 0, heartbeatIntervalMs: 50, silent: true, ...tls });
  const address = `127.0.0.1:${coordinator.port}`;
  for (let i = 0; i < 2; i++) {
    nodes.push(
      await startNode({
        port: 0,
        coordinator: address,
        heartbeatIntervalMs: 50,
        silent: true,
        ...tls,
      }),
    );
  }
  const watcher = client(address, { ca: readPemFile(certs.ca, 'ca'), ...clientCert(certs) });
  await watcher.waitUntilServing(
    nodes.map((n) => n.id),
    { timeoutMs: 10_000 },
  );
  return address;
}

function clientCert(files: DevCertificates): { cert: Buffer; key: Buffer } {
  return { cert: readPemFile(files.clientCert, 'cert'), key: readPemFile(files.clientKey, 'key') };
}

function client(coordinatorAddress: string, tls?: ClientTlsOptions) {
  const c = createClient({
    coordinator: coordinatorAddress,
    connectTimeoutMs: 2000,
    retries: 0,
    refreshIntervalMs: 0,
    ...(tls && { tls }),
  });
  clients.push(c);
  return c;
}

describe('@kv/client over TLS', () => {
  it('reads and writes through a TLS cluster with tls: { ca }', async () => {
    const address = await tlsCluster();
    const c = client(address, { ca: readPemFile(certs.ca, 'ca') });
    await c.put('user:1', 'Alice');
    expect(await c.getString('user:1')).toBe('Alice');
    const entry = await c.getEntry('user:1');
    expect(nodes.map((n) => n.id)).toContain(entry.node);
  });

  it('fails cleanly without TLS, or trusting another CA', async () => {
    const address = await tlsCluster();
    const plain = client(address);
    await expect(plain.connect()).rejects.toThrow(CoordinatorUnreachableError);
    const wrongCa = client(address, { ca: readPemFile(other.ca, 'ca') });
    await expect(wrongCa.connect()).rejects.toThrow(
      new RegExp(
        `^cannot reach coordinator at ${address} \\((SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE): the server's certificate is .*--tls-ca\\)\\)$`,
      ),
    );
    const good = client(address, { ca: readPemFile(certs.ca, 'ca') });
    expect(await good.getString('user:1')).toBeNull();
  });

  it('presents its certificate to a cluster that requires one', async () => {
    const address = await tlsCluster(true);
    const withCert = client(address, { ca: readPemFile(certs.ca, 'ca'), ...clientCert(certs) });
    await withCert.put('k', 'v');
    expect(await withCert.getString('k')).toBe('v');
    const stranger = client(address, { ca: readPemFile(certs.ca, 'ca'), ...clientCert(other) });
    await expect(stranger.connect()).rejects.toThrow(
      /^cannot reach coordinator at .* \(connection to .* closed by the server before any reply \(a TLS server closes like this when it refuses the client certificate, or requires one\)\)$/,
    );
  });

  it('bootstraps from TLS seeds with the coordinator down, and not without the CA', async () => {
    const address = await tlsCluster(true);
    const seeds = nodes.map((n) => n.id);
    await coordinator?.close();
    coordinator = undefined;
    const tls = { ca: readPemFile(certs.ca, 'ca'), ...clientCert(certs) };
    const seeded = createClient({ coordinator: address, seeds, retries: 0, tls });
    clients.push(seeded);
    await seeded.put('k', 'v');
    expect(await seeded.getString('k')).toBe('v');
    expect(seeds).toContain((await seeded.ring()).from);
    const untrusting = createClient({
      coordinator: address,
      seeds,
      tls: { ...tls, ca: readPemFile(other.ca, 'ca') },
    });
    clients.push(untrusting);
    const err = (await untrusting
      .connect()
      .catch((e: unknown) => e)) as CoordinatorUnreachableError;
    expect(err).toBeInstanceOf(CoordinatorUnreachableError);
    expect(err.attempts.map((a) => a.role)).toEqual(['coordinator', 'seed', 'seed']);
    for (const attempt of err.attempts.slice(1))
      expect(attempt.reason).toMatch(
        /^(SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE)/,
      );
  });

  it('refuses a certificate without its key', () => {
    expect(() => createClient({ tls: { cert: readPemFile(certs.clientCert, 'cert') } })).toThrow(
      TlsConfigError,
    );
  });
});
