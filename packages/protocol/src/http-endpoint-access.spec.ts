import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { createHttpEndpoint, type HttpEndpoint, type HttpEndpointOptions } from './http-endpoint';
import { makeTlsFixtures, type TlsFixtures } from './test-support/tls-fixtures';
import { Permission, UserTable, hashPassword } from './users';

const users = new UserTable([
  { name: 'reports', permission: Permission.readOnly, passwordHash: hashPassword('s3cret pw') },
  { name: 'ops', permission: Permission.admin, passwordHash: hashPassword('other') },
]);

const endpoints: HttpEndpoint[] = [];
afterEach(async () => {
  await Promise.all(endpoints.splice(0).map((e) => e.close()));
});

async function open(options: Partial<HttpEndpointOptions>): Promise<HttpEndpoint> {
  const endpoint = await createHttpEndpoint(0, '127.0.0.1', {
    metrics: { contentType: 'text/plain; version=0.0.4', metrics: () => Promise.resolve('m 1\n') },
    routes: { '/': () => ({ contentType: 'text/html', body: 'page' }) },
    ...options,
  });
  endpoints.push(endpoint);
  return endpoint;
}

interface Reply {
  status: number;
  body: string;
  headers: Record<string, unknown>;
}

function get(
  port: number,
  path: string,
  options: RequestOptions & { secure?: boolean } = {},
): Promise<Reply> {
  const { secure, ...rest } = options;
  const request = secure ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, ...rest }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

const basic = (credentials: string): { authorization: string } => ({
  authorization: `Basic ${Buffer.from(credentials).toString('base64')}`,
});

describe('createHttpEndpoint with users', () => {
  it('serves every path to any configured user, whatever its permission', async () => {
    const endpoint = await open({ users });
    expect(endpoint.scheme).toBe('http');
    const metrics = await get(endpoint.port, '/metrics', { headers: basic('reports:s3cret pw') });
    expect(metrics).toMatchObject({ status: 200, body: 'm 1\n' });
    const page = await get(endpoint.port, '/', { headers: basic('ops:other') });
    expect(page).toMatchObject({ status: 200, body: 'page' });
    // A password may hold colons; the name ends at the first one.
    const colon = new UserTable([
      { name: 'a', permission: Permission.readOnly, passwordHash: hashPassword('x:y') },
    ]);
    const other = await open({ users: colon });
    expect((await get(other.port, '/metrics', { headers: basic('a:x:y') })).status).toBe(200);
  });

  it('answers 401 with a Basic challenge to missing, malformed or wrong credentials', async () => {
    const failures: [string | undefined, string][] = [];
    const endpoint = await open({
      users,
      onAuthFailure: (remote, user, reason) => {
        expect(remote).toMatch(/127\.0\.0\.1/);
        failures.push([user, reason]);
      },
    });
    const attempts: Record<string, string>[] = [
      {},
      basic('reports:wrong'),
      basic('nobody:s3cret pw'),
      basic('reports'),
      { authorization: 'Bearer abc' },
      { authorization: 'Basic !!!' },
    ];
    for (const headers of attempts) {
      for (const path of ['/metrics', '/', '/nope']) {
        const reply = await get(endpoint.port, path, { headers });
        expect(reply.status).toBe(401);
        expect(reply.headers['www-authenticate']).toBe('Basic realm="kv", charset="UTF-8"');
        expect(reply.body).not.toContain('m 1');
        expect(reply.body).not.toContain('page');
      }
    }
    const expected: [string | undefined, string][] = [
      [undefined, 'no credentials'],
      ['reports', 'wrong user or password'],
      ['nobody', 'wrong user or password'],
      [undefined, 'credentials without a colon'],
      [undefined, 'not Basic credentials'],
      [undefined, 'not Basic credentials'],
    ];
    expect(failures).toEqual(expected.flatMap((failure) => [failure, failure, failure]));
  });

  it('serves everyone when the user table is empty or absent', async () => {
    const endpoint = await open({ users: new UserTable([]) });
    expect((await get(endpoint.port, '/metrics')).status).toBe(200);
  });
});

describe('createHttpEndpoint with TLS', () => {
  let fixtures: TlsFixtures;
  beforeAll(async () => {
    fixtures = await makeTlsFixtures();
  });
  afterAll(() => fixtures.remove());

  it('serves HTTPS to a client that trusts its CA, with Basic authentication on top', async () => {
    const { cluster } = fixtures;
    const endpoint = await open({ tls: { cert: cluster.cert, key: cluster.key }, users });
    expect(endpoint.scheme).toBe('https');
    const ok = await get(endpoint.port, '/metrics', {
      secure: true,
      ca: cluster.ca,
      headers: basic('reports:s3cret pw'),
    });
    expect(ok).toMatchObject({ status: 200, body: 'm 1\n' });
    const refused = await get(endpoint.port, '/metrics', { secure: true, ca: cluster.ca });
    expect(refused.status).toBe(401);
  });

  it('never answers plain HTTP on its TLS port', async () => {
    const { cluster } = fixtures;
    const errors: Error[] = [];
    const endpoint = await open({
      tls: { cert: cluster.cert, key: cluster.key, onHandshakeError: (err) => errors.push(err) },
    });
    await expect(get(endpoint.port, '/metrics')).rejects.toThrow();
    expect(errors.length).toBeGreaterThan(0);
  });

  it('is refused by a client that does not trust its CA', async () => {
    const { cluster, other } = fixtures;
    const endpoint = await open({ tls: { cert: cluster.cert, key: cluster.key } });
    await expect(get(endpoint.port, '/metrics', { secure: true })).rejects.toMatchObject({
      code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    });
    await expect(
      get(endpoint.port, '/metrics', { secure: true, ca: other.ca }),
    ).rejects.toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
  });

  it('with client certificates, refuses a client with none or one from another CA', async () => {
    const { cluster, other } = fixtures;
    const errors: Error[] = [];
    const endpoint = await open({
      tls: {
        cert: cluster.cert,
        key: cluster.key,
        ca: cluster.ca,
        requestCert: true,
        onHandshakeError: (err) => errors.push(err),
      },
    });
    const trusted = { secure: true, ca: cluster.ca };
    await expect(get(endpoint.port, '/metrics', trusted)).rejects.toThrow();
    await expect(
      get(endpoint.port, '/metrics', { ...trusted, cert: other.clientCert, key: other.clientKey }),
    ).rejects.toThrow();
    expect(errors.length).toBeGreaterThanOrEqual(2);
    const ok = await get(endpoint.port, '/metrics', {
      ...trusted,
      cert: cluster.clientCert,
      key: cluster.clientKey,
    });
    expect(ok).toMatchObject({ status: 200, body: 'm 1\n' });
  });

  it('refuses client certificates without the CA that signs them', async () => {
    const { cluster } = fixtures;
    await expect(
      open({ tls: { cert: cluster.cert, key: cluster.key, requestCert: true } }),
    ).rejects.toThrow('client certificates need the CA');
    await expect(open({ tls: { cert: cluster.cert, key: fixtures.other.key } })).rejects.toThrow(
      'HTTPS server',
    );
  });
});
