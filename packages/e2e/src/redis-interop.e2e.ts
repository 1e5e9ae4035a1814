import { connect } from 'node:net';
import Redis from 'ioredis';
import { Cluster, type ClusterNode } from './harness/cluster';
import { HOST } from './harness/free-port';
import { requireTool } from './harness/redis-tools';
import { send, text } from './harness/resp';
import { runCommand } from './harness/run-command';

let cluster: Cluster;
let node: ClusterNode;

beforeAll(async () => {
  cluster = await Cluster.start({ nodes: 3 });
  node = cluster.node(0);
});

function redisCli(args: string[], input?: string): ReturnType<typeof runCommand> {
  requireTool('redis-cli');
  return runCommand(
    {
      name: `redis-cli ${args.join(' ')}`,
      command: 'redis-cli',
      args: ['-h', HOST, '-p', String(node.port), ...args],
      input,
    },
    30_000,
  );
}

/** Sends raw bytes on a socket of its own and collects the reply bytes until `expected` many arrived. */
function rawExchange(port: number, request: string, expectedLength: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: HOST, port });
    let received = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`only got ${JSON.stringify(received.toString())} within 5000 ms`));
    }, 5000);
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= expectedLength) {
        clearTimeout(timer);
        socket.destroy();
        resolve(received.toString());
      }
    });
    socket.write(request);
  });
}

describe('ioredis against a node', () => {
  let redis: Redis;
  beforeEach(() => {
    redis = new Redis({ host: HOST, port: node.port, lazyConnect: true, maxRetriesPerRequest: 0 });
  });
  afterEach(() => {
    redis.disconnect();
  });

  it('runs SET, GET, DEL, EXISTS, PING and INFO', async () => {
    await redis.connect();
    expect(await redis.ping()).toBe('PONG');
    expect(await redis.set('ioredis:1', 'Alice Smith')).toBe('OK');
    expect(await redis.get('ioredis:1')).toBe('Alice Smith');
    expect(await redis.exists('ioredis:1', 'ioredis:missing')).toBe(1);
    expect(await redis.del('ioredis:1')).toBe(1);
    expect(await redis.get('ioredis:1')).toBeNull();
    expect(await redis.del('ioredis:1')).toBe(0);
    const info = await redis.info();
    expect(info).toMatch(/^# Server\r?\n/);
    expect(info).toContain(`node_id:${node.id}`);
    // The value went through the node's replication, not only into the node ioredis talks to.
    await redis.set('ioredis:2', Buffer.from([0, 255, 13, 10]));
    expect(await redis.getBuffer('ioredis:2')).toEqual(Buffer.from([0, 255, 13, 10]));
    expect(text(await send(cluster.node(2).port, ['GET', 'ioredis:2']))).toBe(
      Buffer.from([0, 255, 13, 10]).toString(),
    );
  });

  it('runs SET NX/XX, EXPIRE, PEXPIRE, TTL, PTTL, PERSIST, MSET and MGET', async () => {
    await redis.connect();
    expect(await redis.set('ioredis:nx', 'first', 'EX', 100, 'NX')).toBe('OK');
    expect(await redis.set('ioredis:nx', 'second', 'NX')).toBeNull();
    expect(await redis.get('ioredis:nx')).toBe('first');
    expect(await redis.set('ioredis:missing', 'v', 'XX')).toBeNull();
    expect(await redis.exists('ioredis:missing')).toBe(0);
    expect(await redis.ttl('ioredis:nx')).toBeGreaterThan(0);
    expect(await redis.ttl('ioredis:nx')).toBeLessThanOrEqual(100);
    expect(await redis.expire('ioredis:nx', 500)).toBe(1);
    const pttl = await redis.pttl('ioredis:nx');
    expect(pttl).toBeGreaterThan(100_000);
    expect(pttl).toBeLessThanOrEqual(500_000);
    expect(await redis.expire('ioredis:nx', 50, 'GT')).toBe(0);
    expect(await redis.persist('ioredis:nx')).toBe(1);
    expect(await redis.ttl('ioredis:nx')).toBe(-1);
    expect(await redis.persist('ioredis:nx')).toBe(0);
    expect(await redis.ttl('ioredis:nothing')).toBe(-2);
    expect(await redis.expire('ioredis:nothing', 10)).toBe(0);
    expect(await redis.pexpire('ioredis:nx', 0)).toBe(1);
    expect(await redis.get('ioredis:nx')).toBeNull();
    expect(await redis.mset('ioredis:m1', 'one', 'ioredis:m2', 'two', 'ioredis:m3', 'three')).toBe(
      'OK',
    );
    expect(await redis.mget('ioredis:m1', 'ioredis:none', 'ioredis:m3', 'ioredis:m2')).toEqual([
      'one',
      null,
      'three',
      'two',
    ]);
    // Another node coordinates the same keys from their own replicas.
    const other = await send(cluster.node(2).port, ['MGET', 'ioredis:m2', 'ioredis:m1']);
    expect((other as Buffer[]).map((v) => v.toString())).toEqual(['two', 'one']);
    await expect(redis.incr('ioredis:m1')).rejects.toThrow(
      /^ERR INCR is not supported: a counter needs an atomic read-modify-write/,
    );
    await expect(redis.append('ioredis:m1', 'x')).rejects.toThrow(/^ERR APPEND is not supported/);
    expect(await redis.get('ioredis:m1')).toBe('one');
  });

  it('pipelines, and gets error replies as errors', async () => {
    await redis.connect();
    const results = await redis
      .pipeline()
      .set('pipe:1', 'one')
      .set('pipe:2', 'two')
      .get('pipe:1')
      .exists('pipe:1', 'pipe:2', 'pipe:3')
      .del('pipe:1', 'pipe:2')
      .get('pipe:2')
      .call('SET', 'pipe:3', 'x', 'W', '9')
      .ping()
      .exec();
    expect(results).toEqual([
      [null, 'OK'],
      [null, 'OK'],
      [null, 'one'],
      [null, 2],
      [null, 2],
      [null, null],
      [
        expect.objectContaining({ message: 'WRONGARGS write quorum must be between 1 and 3' }),
        undefined,
      ],
      [null, 'PONG'],
    ]);
    await expect(redis.call('NOSUCHCOMMAND')).rejects.toThrow(
      "ERR unknown command 'NOSUCHCOMMAND'",
    );
  });
});

describe('redis-cli against a node', () => {
  it('runs commands given as arguments (multibulk)', async () => {
    expect((await redisCli(['PING'])).stdout).toBe('PONG');
    expect((await redisCli(['SET', 'cli:1', 'hello world'])).stdout).toBe('OK');
    expect((await redisCli(['GET', 'cli:1'])).stdout).toBe('hello world');
    expect((await redisCli(['EXISTS', 'cli:1'])).stdout).toBe('1');
    expect((await redisCli(['DEL', 'cli:1'])).stdout).toBe('1');
    expect((await redisCli(['EXISTS', 'cli:1'])).stdout).toBe('0');
    expect((await redisCli(['INFO'])).stdout).toContain(`node_id:${node.id}`);
    const wrong = await redisCli(['SET', 'cli:1', 'v', 'W', '9']);
    expect(wrong.stdout.trim()).toBe('WRONGARGS write quorum must be between 1 and 3');
  });

  it('runs SET NX, EXPIRE, TTL, PTTL, PERSIST, MSET and MGET, and refuses INCR', async () => {
    const result = await redisCli(
      [],
      [
        'SET cli:nx first NX',
        'SET cli:nx second NX',
        'GET cli:nx',
        'TTL cli:nx',
        'EXPIRE cli:nx 300',
        'PERSIST cli:nx',
        'PTTL cli:nx',
        'PTTL cli:none',
        'MSET cli:a 1 cli:b "two words"',
        'MGET cli:a cli:none cli:b',
        'INCR cli:a',
        '',
      ].join('\n'),
    );
    expect(result.status.code).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines.slice(0, 12)).toEqual([
      'OK',
      '',
      'first',
      '-1',
      '1',
      '1',
      '-1',
      '-2',
      'OK',
      '1',
      '',
      'two words',
    ]);
    expect(lines[12]).toMatch(/^ERR INCR is not supported: a counter needs/);
    const ttl = await redisCli(['EXPIRE', 'cli:a', '100']).then(() => redisCli(['TTL', 'cli:a']));
    expect(Number(ttl.stdout)).toBeGreaterThan(0);
    expect(Number(ttl.stdout)).toBeLessThanOrEqual(100);
  });

  it('runs commands read from stdin, one after another', async () => {
    const result = await redisCli(
      [],
      'SET cli:2 "two words"\nGET cli:2\nEXISTS cli:2\nDEL cli:2\nGET cli:2\nPING\n',
    );
    expect(result.status.code).toBe(0);
    expect(result.stdout.split('\n')).toEqual(['OK', 'two words', '1', '1', '', 'PONG']);
  });

  it('sends inline and multibulk commands pipelined with --pipe', async () => {
    const commands = [
      'SET pipe:inline "inline value"\r\n',
      '*3\r\n$3\r\nSET\r\n$9\r\npipe:bulk\r\n$10\r\nbulk value\r\n',
    ];
    for (let i = 0; i < 500; i++) commands.push(`SET pipe:many:${i} v${i}\r\n`);
    const result = await redisCli(['--pipe'], commands.join(''));
    expect({ code: result.status.code, out: result.stdout }).toEqual({
      code: 0,
      out: expect.stringContaining('errors: 0, replies: 502') as unknown,
    });
    expect(text(await send(node.port, ['GET', 'pipe:inline']))).toBe('inline value');
    expect(text(await send(cluster.node(1).port, ['GET', 'pipe:bulk']))).toBe('bulk value');
    expect(text(await send(cluster.node(2).port, ['GET', 'pipe:many:499']))).toBe('v499');
  });
});

describe('inline commands over a raw socket', () => {
  it('answers pipelined inline commands in order', async () => {
    const reply = await rawExchange(
      node.port,
      'PING\r\nSET raw:1 "a b"\r\nGET raw:1\r\nEXISTS raw:1 raw:2\r\nDEL raw:1\r\nGET raw:1\r\n',
      '+PONG\r\n+OK\r\n$3\r\na b\r\n:1\r\n:1\r\n$-1\r\n'.length,
    );
    expect(reply).toBe('+PONG\r\n+OK\r\n$3\r\na b\r\n:1\r\n:1\r\n$-1\r\n');
  });
});

describe('redis-benchmark against a node', () => {
  it('runs set, get and ping, 20,000 requests each, 16 pipelined, without an error', async () => {
    requireTool('redis-benchmark');
    const result = await runCommand(
      {
        name: 'redis-benchmark',
        command: 'redis-benchmark',
        args: [
          '-h',
          HOST,
          '-p',
          String(node.port),
          '-t',
          'set,get,ping',
          '-n',
          '20000',
          '-P',
          '16',
          '-q',
        ],
      },
      120_000,
    );
    // -q redraws a progress line with carriage returns; the last part of each line is the result.
    const lines = (result.stdout + '\n' + result.stderr)
      .split(/[\r\n]+/)
      .map((l) => l.trim())
      .filter((l) => l.length > 0);
    expect(lines.filter((l) => /error/i.test(l))).toEqual([]);
    expect(result.status).toEqual({ code: 0, signal: null });
    for (const test of ['PING_INLINE', 'PING_MBULK', 'SET', 'GET']) {
      expect(lines).toContainEqual(
        expect.stringMatching(new RegExp(`^${test}: [\\d.]+ requests per second`)),
      );
    }
    // The benchmark's SETs (of 3-byte values, its default) went through the node into the
    // cluster.
    expect(text(await send(cluster.node(1).port, ['GET', 'key:__rand_int__']))).toHaveLength(3);
  });
});

describe('a missing Redis tool', () => {
  it('fails with how to install it', () => {
    expect(() => requireTool('redis-cli-that-does-not-exist')).toThrow(
      'redis-cli-that-does-not-exist is needed by the Redis interop tests but cannot be run (ENOENT): install it with `apt-get install -y redis-tools` (CI installs it)',
    );
  });
});
