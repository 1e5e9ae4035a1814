import { request } from 'node:http';
import { createHttpEndpoint, type HttpEndpoint } from './http-endpoint';

const endpoints: HttpEndpoint[] = [];
afterEach(async () => {
  await Promise.all(endpoints.splice(0).map((e) => e.close()));
});

async function open(
  routes: Parameters<typeof createHttpEndpoint>[2]['routes'] = {},
  onError?: (err: unknown) => void,
): Promise<HttpEndpoint> {
  const endpoint = await createHttpEndpoint(0, '127.0.0.1', {
    metrics: { contentType: 'text/plain; version=0.0.4', metrics: () => Promise.resolve('m 1\n') },
    routes,
    onError,
  });
  endpoints.push(endpoint);
  return endpoint;
}

function send(
  port: number,
  method: string,
  path: string,
): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(method === 'POST' ? 'x'.repeat(100_000) : undefined);
  });
}

describe('createHttpEndpoint', () => {
  it('serves /metrics with its content type, and the routes given with their query', async () => {
    const endpoint = await open({
      '/hello': (query) => ({ contentType: 'text/plain', body: `hi ${query.get('name')}` }),
    });
    expect(endpoint.host).toBe('127.0.0.1');
    const metrics = await send(endpoint.port, 'GET', '/metrics');
    expect(metrics).toMatchObject({ status: 200, body: 'm 1\n' });
    expect(metrics.headers['content-type']).toBe('text/plain; version=0.0.4');
    expect(metrics.headers['cache-control']).toBe('no-store');
    expect((await send(endpoint.port, 'GET', '/hello?name=kv')).body).toBe('hi kv');
    expect(await send(endpoint.port, 'HEAD', '/metrics')).toMatchObject({ status: 200, body: '' });
  });

  it('answers 404 for unknown paths, 405 for other methods, 500 when a route throws', async () => {
    const errors: unknown[] = [];
    const endpoint = await open(
      {
        '/boom': () => {
          throw new Error('broken');
        },
      },
      (err) => errors.push(err),
    );
    expect(await send(endpoint.port, 'GET', '/nope')).toMatchObject({
      status: 404,
      body: 'no page at /nope; try /metrics\n',
    });
    expect(await send(endpoint.port, 'GET', '/__proto__')).toMatchObject({ status: 404 });
    const post = await send(endpoint.port, 'POST', '/metrics');
    expect(post).toMatchObject({ status: 405 });
    expect(post.headers['allow']).toBe('GET, HEAD');
    expect(await send(endpoint.port, 'GET', '/boom')).toMatchObject({
      status: 500,
      body: 'internal error; see the server log\n',
    });
    expect(errors).toEqual([new Error('broken')]);
    // Still serving.
    expect((await send(endpoint.port, 'GET', '/metrics')).status).toBe(200);
  });

  it('refuses to start on a port in use, and frees its port on close', async () => {
    const first = await open();
    await expect(
      createHttpEndpoint(first.port, '127.0.0.1', {
        metrics: { contentType: 'text/plain', metrics: () => Promise.resolve('') },
      }),
    ).rejects.toMatchObject({ code: 'EADDRINUSE' });
    await first.close();
    endpoints.splice(0);
    await expect(send(first.port, 'GET', '/metrics')).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });
  });
});
