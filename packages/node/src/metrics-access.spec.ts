import { readFileSync } from 'node:fs';
import {
  UserTable,
  connectTls,
  parseExposition,
  parseUsers,
  sampleValue,
  type TlsClientOptions,
} from '@kv/protocol';
import { startNode, type KvNode } from './node';
import type { NodeOptions } from './node-options';
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

async function start(options: Omit<NodeOptions, 'port'>): Promise<KvNode> {
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

/** GET /metrics over plain HTTP, with Basic credentials `user:password` when given. */
async function scrape(port: number, user?: string): Promise<{ status: number; body: string }> {
  const headers: Record<string, string> =
    user === undefined ? {} : { authorization: `Basic ${Buffer.from(user).toString('base64')}` };
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, { headers });
  return { status: res.status, body: await res.text() };
}

/**
 * GET /metrics over the project's own TLS connector (`@kv/protocol`'s `connectTls`) with
 * these client options: the status line's code, or a rejection when the handshake or the
 * connection fails.
 */
function scrapeTls(port: number, options: TlsClientOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    let head = '';
    const socket = connectTls(options)({ host: '127.0.0.1', port }, () =>
      socket.write('GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'),
    );
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (head += chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const status = /^HTTP\/1\.1 (\d{3}) /.exec(head);
      if (status) resolve(Number(status[1]));
      else reject(new Error(`no HTTP answer (${head.length} bytes)`));
    });
  });
}

describe("a node's /metrics follows the client commands rules", () => {
  it('with users, answers 401 without the credentials of one and counts the refusals', async () => {
    const node = await start({ clusterSecret: SECRET, users: USERS });
    const port = node.metricsPort as number;
    expect((await scrape(port)).status).toBe(401);
    expect((await scrape(port, 'scraper:wrong')).status).toBe(401);
    expect((await scrape(port, 'other:scrape-pw')).status).toBe(401);
    const ok = await scrape(port, 'scraper:scrape-pw');
    expect(ok.status).toBe(200);
    expect(sampleValue(parseExposition(ok.body), 'kv_auth_failures_total')).toBe(3);
  });

  it('with TLS, speaks HTTPS only, and with client certificates wants one from its CA', async () => {
    const { cluster, other } = pki;
    const node = await start({ ...memberTls(cluster, cluster, true), clusterSecret: SECRET });
    const port = node.metricsPort as number;
    const ca = readFileSync(cluster.ca);
    await expect(scrape(port)).rejects.toThrow();
    // The chain it sends ends at its CA, which this client does not trust.
    await expect(scrapeTls(port, {})).rejects.toMatchObject({ code: 'SELF_SIGNED_CERT_IN_CHAIN' });
    await expect(scrapeTls(port, { ca })).rejects.toThrow();
    await expect(
      scrapeTls(port, {
        ca,
        cert: readFileSync(other.clientCert),
        key: readFileSync(other.clientKey),
      }),
    ).rejects.toThrow();
    const member = {
      ca,
      cert: readFileSync(cluster.clientCert),
      key: readFileSync(cluster.clientKey),
    };
    expect(await scrapeTls(port, member)).toBe(200);
  });
});
