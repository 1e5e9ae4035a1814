import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { readFileSync } from 'node:fs';
import { UserTable, parseExposition, parseUsers, sampleValue } from '@kv/protocol';
import { startNode, type KvNode } from './node';
import { makeTestPki, memberTls, type TestPki } from './test-support/tls';

const SECRET = Buffer.from('a cluster secret for the tests, 32+ bytes');
const USERS = new UserTable(parseUsers('scraper read-only >scrape-pw'));

let pki: TestPki;
const nodes: KvNode[] = [];
beforeAll(async () => {
  pki = await makeTestPki();
});
afterAll(() => pki.remove());
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.close({ leave: false })));
});

async function start(options: Parameters<typeof startNode>[0]): Promise<KvNode> {
  // No coordinator listens there: the node serves its metrics all the same.
  const node = await startNode({
    host: '127.0.0.1',
    port: 0,
    metricsPort: 0,
    coordinator: '127.0.0.1:1',
    silent: true,
    ...options,
  });
  nodes.push(node);
  return node;
}

interface GetOptions {
  secure?: boolean;
  ca?: string;
  cert?: string;
  key?: string;
  user?: string;
}

function get(port: number, o: GetOptions = {}): Promise<{ status: number; body: string }> {
  const request = o.secure ? httpsRequest : httpRequest;
  const pem = (file: string | undefined) => (file === undefined ? undefined : readFileSync(file));
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/metrics',
        ca: pem(o.ca),
        cert: pem(o.cert),
        key: pem(o.key),
        headers:
          o.user === undefined
            ? {}
            : { authorization: `Basic ${Buffer.from(o.user).toString('base64')}` },
      },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe("a node's /metrics follows the client commands rules", () => {
  it('with users, answers 401 without the credentials of one and counts the refusals', async () => {
    const node = await start({ clusterSecret: SECRET, users: USERS });
    const port = node.metricsPort as number;
    expect((await get(port)).status).toBe(401);
    expect((await get(port, { user: 'scraper:wrong' })).status).toBe(401);
    expect((await get(port, { user: 'other:scrape-pw' })).status).toBe(401);
    const ok = await get(port, { user: 'scraper:scrape-pw' });
    expect(ok.status).toBe(200);
    expect(sampleValue(parseExposition(ok.body), 'kv_auth_failures_total')).toBe(3);
  });

  it('with TLS, speaks HTTPS only, and with client certificates wants one from its CA', async () => {
    const { cluster, other } = pki;
    const node = await start({ ...memberTls(cluster, cluster, true), clusterSecret: SECRET });
    const port = node.metricsPort as number;
    const trusting = { secure: true, ca: cluster.ca };
    await expect(get(port)).rejects.toThrow();
    await expect(get(port, { secure: true })).rejects.toMatchObject({
      // The chain it sends ends at its CA, which this client does not trust.
      code: 'SELF_SIGNED_CERT_IN_CHAIN',
    });
    await expect(get(port, trusting)).rejects.toThrow();
    await expect(
      get(port, { ...trusting, cert: other.clientCert, key: other.clientKey }),
    ).rejects.toThrow();
    const ok = await get(port, { ...trusting, cert: cluster.clientCert, key: cluster.clientKey });
    expect(ok.status).toBe(200);
    expect(parseExposition(ok.body).has('kv_keys')).toBe(true);
  });
});
