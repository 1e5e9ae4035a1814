import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { createLogger, startCoordinator } from '@kv/coordinator';
import Redis, { type RedisOptions } from 'ioredis';
import { connectTls, readPemFile } from '@kv/protocol';
import { startNode, type KvNode } from './node';
import { startCluster, waitFor, type TestCluster } from './test-support/cluster';
import { makeTestPki, memberTls, type TestPki } from './test-support/tls';

let pki: TestPki;
let cluster: TestCluster | undefined;
const closers: (() => Promise<unknown> | void)[] = [];

beforeAll(async () => {
  pki = await makeTestPki();
});
afterAll(() => pki.remove());
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await cluster?.close();
  cluster = undefined;
});

/** A three-node cluster speaking TLS everywhere, with the cluster CA's certificates. */
async function tlsCluster(
  clientCerts = false,
  coordinatorLogger?: ReturnType<typeof createLogger>,
): Promise<TestCluster> {
  const tls = memberTls(pki.cluster, pki.cluster, clientCerts);
  const dialler = connectTls({
    ca: readPemFile(pki.cluster.ca, 'ca'),
    cert: readPemFile(pki.cluster.clientCert, 'cert'),
    key: readPemFile(pki.cluster.clientKey, 'key'),
  });
  cluster = await startCluster(
    3,
    tls,
    { ...tls, ...(coordinatorLogger && { logger: coordinatorLogger }) },
    dialler,
  );
  return cluster;
}

function port(c: TestCluster, i = 0): number {
  return (c.nodes[i] as KvNode).port;
}

/** An ioredis client that does not reconnect; `errors` collects what it emitted. */
function redis(options: RedisOptions): Redis & { errors: Error[] } {
  const client = Object.assign(
    new Redis({
      host: '127.0.0.1',
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      ...options,
    }),
    { errors: [] as Error[] },
  );
  client.on('error', (err: Error) => client.errors.push(err));
  closers.push(() => {
    if (client.status !== 'end') client.disconnect();
  });
  return client;
}

/** Runs redis-cli (without blocking this process, whose node it talks to). */
function redisCli(args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile('redis-cli', args, { timeout: 10_000 }, (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT')
        reject(new Error('redis-cli cannot be run: apt-get install redis-tools'));
      else resolve({ stdout, stderr });
    });
  });
}

/** A logger whose lines are kept in `lines`, for a node or a coordinator. */
function capture(): { logger: ReturnType<typeof createLogger>; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      callback();
    },
  });
  return { logger: createLogger({ level: 'debug', stream }), lines };
}

describe('a node with TLS', () => {
  it('replicates over TLS and serves ioredis with tls: { ca }', async () => {
    const c = await tlsCluster();
    const client = redis({ port: port(c, 1), tls: { ca: readFileSync(pki.cluster.ca) } });
    await client.connect();
    expect(await client.set('user:1', 'Alice')).toBe('OK');
    expect(await client.get('user:1')).toBe('Alice');
    // The write was acknowledged by two replicas, reached over TLS.
    await waitFor(
      () => c.nodes.filter((n) => n.store.read(Buffer.from('user:1')) !== undefined).length === 3,
    );
    expect(await client.info('server')).toMatch(/\r\ntls:1\r\ntls_client_certs:0\r\n/);
    const pipeline = client.pipeline();
    for (let i = 0; i < 100; i++) pipeline.set(`k${i}`, `v${i}`);
    for (let i = 0; i < 100; i++) pipeline.get(`k${i}`);
    const results = (await pipeline.exec()) ?? [];
    expect(results.slice(100).map(([, v]) => v)).toEqual(
      Array.from({ length: 100 }, (_, i) => `v${i}`),
    );
  });

  it('serves redis-cli --tls --cacert', async () => {
    const c = await tlsCluster();
    const base = ['--tls', '--cacert', pki.cluster.ca, '-h', '127.0.0.1', '-p', String(port(c))];
    expect((await redisCli([...base, 'SET', 'greeting', 'hello'])).stdout).toBe('OK\n');
    expect((await redisCli([...base, 'GET', 'greeting'])).stdout).toBe('hello\n');
    expect(
      (
        await redisCli([
          '--tls',
          '--cacert',
          pki.cluster.ca,
          '-h',
          'localhost',
          '-p',
          String(port(c)),
          'PING',
        ])
      ).stdout,
    ).toBe('PONG\n');
  });

  it('turns away plain and wrongly trusting clients, and keeps serving', async () => {
    const c = await tlsCluster();
    const plain = redis({ port: port(c), connectTimeout: 2000 });
    await expect(plain.connect().then(() => plain.ping())).rejects.toThrow();
    const wrongCa = redis({ port: port(c), tls: { ca: readFileSync(pki.other.ca) } });
    await expect(wrongCa.connect()).rejects.toThrow();
    expect(wrongCa.errors.map((e) => e.message)).toEqual([
      expect.stringMatching(/self-signed certificate in certificate chain|unable to verify/),
    ]);
    const cli = await redisCli(['--tls', '--cacert', pki.other.ca, '-p', String(port(c)), 'PING']);
    expect(cli.stdout + cli.stderr).toMatch(/SSL|certificate|verify/i);
    expect(cli.stdout).not.toContain('PONG');
    const good = redis({ port: port(c), tls: { ca: readFileSync(pki.cluster.ca) } });
    await good.connect();
    expect(await good.ping()).toBe('PONG');
  });

  it('cannot join a coordinator it does not trust', async () => {
    const coordinator = await startCoordinator({
      port: 0,
      silent: true,
      heartbeatIntervalMs: 50,
      ...memberTls(pki.cluster),
    });
    closers.push(() => coordinator.close());
    // Its own certificate is fine for its clients, but it trusts the other CA only.
    const log = capture();
    const node = await startNode({
      port: 0,
      coordinator: `127.0.0.1:${coordinator.port}`,
      heartbeatIntervalMs: 50,
      logger: log.logger,
      ...memberTls(pki.cluster, pki.other),
    });
    closers.push(() => node.close({ leave: false }));
    await waitFor(() => log.lines.some((l) => l.includes('Cannot reach the coordinator')));
    expect(log.lines.join('\n')).toMatch(
      /Cannot reach the coordinator at 127\.0\.0\.1:\d+ \(.*(SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE)/,
    );
    expect(coordinator.members()).toEqual([]);
    expect(node.ring).toBeUndefined();
  });
});

describe('mutual TLS between members', () => {
  it('serves members and clients with certificates of the cluster CA', async () => {
    const c = await tlsCluster(true);
    expect(await c.send(0, ['PUT', 'k', 'v'])).toEqual(expect.anything());
    await waitFor(() => c.nodes.every((n) => n.store.read(Buffer.from('k')) !== undefined));
    const cli = await redisCli([
      ...['--tls', '--cacert', pki.cluster.ca, '--cert', pki.cluster.clientCert],
      ...['--key', pki.cluster.clientKey, '-p', String(port(c, 2)), 'GET', 'k'],
    ]);
    expect(cli.stdout).toBe('v\n');
  });

  it('refuses a member whose certificate another CA signed, and clients without one', async () => {
    const log = capture();
    const c = await tlsCluster(true, log.logger);
    // It trusts the cluster CA, but presents a certificate of the other.
    const outsider = await c.addNode({ ...memberTls(pki.other, pki.cluster, true) });
    await waitFor(() => log.lines.some((l) => l.includes('client certificate refused')));
    expect(log.lines.find((l) => l.includes('client certificate refused'))).toMatch(
      /TLS handshake with 127\.0\.0\.1:\d+ failed: client certificate refused \((UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT)\)/,
    );
    expect(outsider.ring).toBeUndefined();
    expect(c.nodes.slice(0, 3).every((n) => n.ring?.size === 3)).toBe(true);
    const noCert = redis({ port: port(c), tls: { ca: readFileSync(pki.cluster.ca) } });
    await expect(noCert.connect().then(() => noCert.ping())).rejects.toThrow();
    const otherCert = await redisCli([
      ...['--tls', '--cacert', pki.cluster.ca, '--cert', pki.other.clientCert],
      ...['--key', pki.other.clientKey, '-p', String(port(c)), 'PING'],
    ]);
    expect(otherCert.stdout).not.toContain('PONG');
  });
});

describe('TLS settings of a node', () => {
  it('refuses to start with a certificate and no key, or an unreadable file', async () => {
    await expect(startNode({ port: 0, silent: true, tlsCert: pki.cluster.cert })).rejects.toThrow(
      '--tls-cert needs --tls-key',
    );
    await expect(
      startNode({ port: 0, silent: true, tlsCert: '/nonexistent.pem', tlsKey: pki.cluster.key }),
    ).rejects.toThrow('cannot read --tls-cert /nonexistent.pem (ENOENT)');
  });
});
