import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { readFileSync } from 'node:fs';
import {
  UserTable,
  createDevCertificates,
  parseExposition,
  parseUsers,
  type DevCertificates,
} from '@kv/protocol';
import { client, start, tempDir } from './test-support/coordinator-harness';
import { capturingLogger } from './test-support/log-sink';

const SECRET = Buffer.from('a cluster secret for the tests, 32+ bytes');
const USERS = new UserTable(parseUsers('viewer read-only >viewer-pw\nops admin >ops-pw'));

let certs: DevCertificates;
let outsider: DevCertificates;
beforeEach(async () => {
  const dir = await tempDir();
  [certs, outsider] = await Promise.all([
    createDevCertificates(`${dir}/cluster`),
    createDevCertificates(`${dir}/other`),
  ]);
});

interface GetOptions {
  secure?: boolean;
  ca?: string;
  cert?: string;
  key?: string;
  user?: string;
}

/** GET `path` on the coordinator's HTTP port; rejects when no HTTP answer comes. */
function get(
  port: number,
  path: string,
  o: GetOptions = {},
): Promise<{ status: number; body: string; challenge: unknown }> {
  const request = o.secure ? httpsRequest : httpRequest;
  const pem = (file: string | undefined) => (file === undefined ? undefined : readFileSync(file));
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
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
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body,
            challenge: res.headers['www-authenticate'],
          }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('the coordinator HTTP port follows the client commands rules', () => {
  it('with users, serves the dashboard and /metrics to kv users only, and logs refusals', async () => {
    const { logger, lines } = capturingLogger({ level: 'info' });
    const coordinator = await start({
      clusterSecret: SECRET,
      users: USERS,
      metricsPort: 0,
      logger,
    });
    const port = coordinator.metricsPort as number;
    expect(lines).toContain(
      `[Coordinator] Dashboard on http://127.0.0.1:${port}/ (metrics at /metrics), for kv users`,
    );
    for (const path of ['/', '/metrics', '/api/cluster', '/api/key?key=a']) {
      const none = await get(port, path);
      expect(none).toMatchObject({ status: 401, challenge: 'Basic realm="kv", charset="UTF-8"' });
      expect((await get(port, path, { user: 'viewer:wrong' })).status).toBe(401);
      expect((await get(port, path, { user: 'nobody:viewer-pw' })).status).toBe(401);
      expect((await get(port, path, { user: 'viewer:viewer-pw' })).status).toBe(200);
    }
    const metrics = await get(port, '/metrics', { user: 'ops:ops-pw' });
    expect(parseExposition(metrics.body).has('kv_coordinator_ring_epoch')).toBe(true);
    expect(lines).toContain(
      '[Coordinator] Refused an HTTP request from 127.0.0.1 as viewer: wrong user or password',
    );
    // The refusals are counted where INFO counts wrong passwords.
    const info = String(await (await client(coordinator, SECRET)).send(['INFO']));
    expect(info).toMatch(/acl_access_denied_auth:(\d+)/);
    expect(Number(/acl_access_denied_auth:(\d+)/.exec(info)?.[1])).toBeGreaterThanOrEqual(12);
  });

  it('with TLS, serves HTTPS only, to clients that trust its CA', async () => {
    const { logger, lines } = capturingLogger({ level: 'info' });
    const coordinator = await start({
      tlsCert: certs.cert,
      tlsKey: certs.key,
      metricsPort: 0,
      logger,
    });
    const port = coordinator.metricsPort as number;
    expect(lines).toContain(
      `[Coordinator] Dashboard on https://127.0.0.1:${port}/ (metrics at /metrics)`,
    );
    expect((await get(port, '/metrics', { secure: true, ca: certs.ca })).status).toBe(200);
    await expect(get(port, '/metrics')).rejects.toThrow();
    await expect(get(port, '/metrics', { secure: true })).rejects.toMatchObject({
      code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    });
    await expect(get(port, '/metrics', { secure: true, ca: outsider.ca })).rejects.toMatchObject({
      code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    });
  });

  it('with client certificates, refuses a browser or scraper without one from its CA', async () => {
    const coordinator = await start({
      tlsCert: certs.cert,
      tlsKey: certs.key,
      tlsCa: certs.ca,
      tlsClientCerts: true,
      metricsPort: 0,
    });
    const port = coordinator.metricsPort as number;
    const trusting = { secure: true, ca: certs.ca };
    await expect(get(port, '/', trusting)).rejects.toThrow();
    await expect(
      get(port, '/', { ...trusting, cert: outsider.clientCert, key: outsider.clientKey }),
    ).rejects.toThrow();
    const ok = await get(port, '/', { ...trusting, cert: certs.clientCert, key: certs.clientKey });
    expect(ok.status).toBe(200);
  });
});
