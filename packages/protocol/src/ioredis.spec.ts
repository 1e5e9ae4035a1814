import Redis from 'ioredis';
import { ReplyError } from './errors';
import { createRespServer, type RespServer } from './server';
import { OK, type Reply } from './types';

/**
 * ioredis, a client written independently of this package, against a small server built on
 * it: proves the framing interoperates with real Redis clients.
 */
describe('ioredis against a RespServer', () => {
  let server: RespServer;
  let redis: Redis;
  const store = new Map<string, Buffer>();

  beforeEach(async () => {
    store.clear();
    server = createRespServer({
      handler: (args): Reply => {
        const [name, ...rest] = args.map((a) => a.toString());
        switch (name?.toUpperCase()) {
          case 'SET':
            store.set(rest[0] ?? '', Buffer.from(args[2] ?? ''));
            return OK;
          case 'GET':
            return store.get(rest[0] ?? '') ?? null;
          case 'INCRBY':
            return Number(rest[1]) + 1;
          case 'KEYS':
            return [...store.keys()];
          case 'INFO':
            return '# Server\r\nkv_version:test\r\n';
          default:
            return new ReplyError(`ERR unknown command '${name ?? ''}'`);
        }
      },
    });
    const { port } = await server.listen(0);
    redis = new Redis({
      port,
      host: '127.0.0.1',
      lazyConnect: true,
      enableReadyCheck: false,
      maxRetriesPerRequest: 0,
    });
    await redis.connect();
  });

  afterEach(async () => {
    redis.disconnect();
    await server.close(100);
  });

  it('gets status, bulk, null, integer, array and error replies right', async () => {
    expect(await redis.set('k', 'v a l\r\nue')).toBe('OK');
    expect(await redis.get('k')).toBe('v a l\r\nue');
    expect(await redis.get('missing')).toBeNull();
    expect(await redis.incrby('x', 41)).toBe(42);
    expect((await redis.keys('*')).sort()).toEqual(['k']);
    await expect(redis.call('NOPE')).rejects.toThrow("ERR unknown command 'NOPE'");
  });

  it('round-trips binary values and pipelines', async () => {
    const value = Buffer.from([0, 1, 2, 255, 13, 10]);
    await redis.set('bin', value);
    expect(await redis.getBuffer('bin')).toEqual(value);
    const pipeline = redis.pipeline();
    for (let i = 0; i < 500; i++) pipeline.set(`p${i}`, String(i));
    for (let i = 0; i < 500; i++) pipeline.get(`p${i}`);
    const results = (await pipeline.exec()) ?? [];
    expect(results.slice(500).map(([, v]) => v)).toEqual(
      Array.from({ length: 500 }, (_, i) => String(i)),
    );
  });
});
