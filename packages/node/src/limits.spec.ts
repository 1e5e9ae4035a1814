import { connect, type Socket } from 'node:net';
import { OK, ReplyError, encodeCommand } from '@kv/protocol';
import { parseNodeConfig } from './config';
import { startNode, type KvNode } from './node';
import type { NodeOptions } from './node-options';
import {
  infoFields as info,
  startCluster,
  waitFor,
  type TestCluster,
} from './test-support/cluster';

let cluster: TestCluster | undefined;
const sockets: Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await cluster?.close();
  cluster = undefined;
});

async function errorOf(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ReplyError)) throw new Error(`expected an error reply, got ${String(err)}`);
  return err.message;
}

/** A raw socket to a node that collects what it sends. */
function raw(node: KvNode): { socket: Socket; received: () => string; closed: Promise<void> } {
  const socket = connect({ port: node.port, host: '127.0.0.1' });
  sockets.push(socket);
  let data = '';
  socket.on('data', (d: Buffer) => (data += d.toString('latin1')));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  return { socket, received: () => data, closed };
}

/** Node options as `kv-node` reads them from `argv`. */
async function flags(...argv: string[]): Promise<NodeOptions> {
  const parsed = await parseNodeConfig(argv, {});
  if (parsed.kind !== 'start') throw new Error(parsed.output);
  return parsed.options;
}

describe('--max-memory', () => {
  it('answers writes past it with -OOM while reads, deletes and tombstones go on', async () => {
    const { maxMemory } = await flags('--max-memory', '64mb');
    expect(maxMemory).toBe(64 * 1024 * 1024);
    // A loaded test machine may stall the loop while 64 MB are copied in: the write deadline
    // is not what this test is about.
    const c = (cluster = await startCluster(1, {
      maxMemory,
      writeQuorum: 1,
      writeDeadlineMs: 60_000,
    }));
    const value = Buffer.alloc(1024 * 1024, 0x61);
    let stored = 0;
    let refusal = '';
    // A flood of 1 MiB values: the bound stops it a little past 64 of them.
    for (let i = 0; i < 100 && refusal === ''; i++) {
      const reply = await c.send(0, ['PUT', `big:${i}`, value]).catch((e: ReplyError) => e);
      if (reply instanceof ReplyError) refusal = reply.message;
      else stored++;
    }
    expect(refusal).toMatch(
      /^OOM command not allowed when used memory > 'maxmemory' \(used \d+ bytes, maxmemory 64mb\): delete keys or raise --max-memory$/,
    );
    expect(stored).toBeGreaterThanOrEqual(63);
    expect(stored).toBeLessThanOrEqual(64);
    const memory = await info(c, 0, 'memory');
    expect(memory.maxmemory).toBe(String(64 * 1024 * 1024));
    expect(memory.maxmemory_policy).toBe('noeviction');
    expect(Number(memory.used_memory)).toBeGreaterThan(64 * 1024 * 1024);
    expect(memory.writes_refused_oom).toBe('1');
    const metrics = await (c.nodes[0] as KvNode).metrics.registry.metrics();
    expect(metrics).toContain(`kv_max_memory_bytes ${64 * 1024 * 1024}`);
    expect(metrics).toContain(`kv_used_memory_bytes ${memory.used_memory}`);
    expect(metrics).toContain('kv_writes_refused_oom_total 1');

    // Reads keep working; nothing of the refused write was stored.
    expect((await c.send(0, ['GET', 'big:0'])) as Buffer).toEqual(value);
    expect(await c.send(0, ['EXISTS', 'big:1', `big:${stored}`])).toBe(1);
    expect(await errorOf(c.send(0, ['SET', 'small', 'v']))).toMatch(/^OOM /);
    // Deleting frees memory, and writes are taken again.
    expect(await c.send(0, ['DEL', 'big:0', 'big:1', 'big:2'])).toBe(3);
    expect(await c.send(0, ['SET', 'small', 'v'])).toEqual(OK);
    expect(String(await c.send(0, ['GET', 'small']))).toBe('v');
  });

  it('makes a full replica refuse its copy, so it does not count towards W, but take deletes', async () => {
    const c = (cluster = await startCluster(1));
    const full = await c.addNode({ maxMemory: 4096 });
    await waitFor(() => c.nodes.every((n) => n.ring?.size === 2 && n.placement?.settled));
    const value = Buffer.alloc(1000, 0x62);
    let failure = '';
    for (let i = 0; i < 20 && failure === ''; i++)
      failure = await c.send(0, ['PUT', `k${i}`, value, 'W', '2']).then(
        () => '',
        (e: ReplyError) => e.message,
      );
    // The full replica's refusal says why.
    expect(failure).toMatch(
      /^UNAVAILABLE 1 of 2 replicas acknowledged \(127\.0\.0\.1:\d+ refused: command not allowed when used memory > 'maxmemory' .*--max-memory\)$/,
    );
    expect(Number((await info(c, 1, 'memory')).writes_refused_oom)).toBeGreaterThanOrEqual(1);
    // One copy is enough when the client asks for one; the full replica holds no new value,
    // and knows it lacks writes: its reads ask the other replica too.
    expect(await c.send(0, ['PUT', 'one', 'copy', 'W', '1'])).toEqual(OK);
    expect(full.store.read(Buffer.from('one'))).toBeUndefined();
    expect(String(await c.send(1, ['GET', 'one']))).toBe('copy');
    // Tombstones free memory: a full replica takes them.
    expect(await c.send(0, ['DEL', 'k0', 'W', '2'])).toBe(1);
    expect(full.store.read(Buffer.from('k0'))?.value).toBeNull();
  });

  it.each([
    [['--max-memory', '1gb'], 1024 ** 3],
    [['--max-memory', '512KB'], 512 * 1024],
    [['--max-memory', '1000000'], 1_000_000],
    [['--max-memory', '2m'], 2_000_000],
    [[], 0],
  ])('reads %j as %d bytes', async (argv, bytes) => {
    expect((await flags(...argv)).maxMemory).toBe(bytes);
  });

  it('refuses a bound or a weight out of range given as options', async () => {
    await expect(startNode({ port: 0, maxMemory: -1, silent: true })).rejects.toThrow(
      'max memory must be a whole number of bytes (0 for no bound), got -1',
    );
    await expect(startNode({ port: 0, weight: 1000, silent: true })).rejects.toThrow(
      'weight must be a number greater than 0 and at most 100, got 1000',
    );
  });

  it('reads KV_MAX_MEMORY, and refuses sizes it cannot read', async () => {
    expect(await parseNodeConfig([], { KV_MAX_MEMORY: '64mb' })).toMatchObject({
      options: { maxMemory: 64 * 1024 * 1024 },
    });
    for (const bad of ['-1', '1.5gb', 'lots', '64 pb', '99999999999tb'])
      expect(await parseNodeConfig(['--max-memory', bad], {})).toMatchObject({
        kind: 'exit',
        code: 2,
        output: expect.stringContaining(
          `--max-memory must be a size in bytes such as 1073741824, 64mb or 1gb, got ${bad}`,
        ) as string,
      });
  });
});

describe('arguments a node refuses', () => {
  it('answers a million-key EXISTS with -TOOLARGE from its header, and keeps the connection', async () => {
    const c = (cluster = await startCluster(1, { writeQuorum: 1 }));
    const peer = raw(c.nodes[0] as KvNode);
    const count = 1_000_000;
    const key = encodeCommand(['k']).subarray('*1\r\n'.length);
    peer.socket.write(`*${count + 1}\r\n$6\r\nEXISTS\r\n`);
    const batch = Buffer.concat(Array.from({ length: 10_000 }, () => key));
    for (let sent = 0; sent < count; sent += 10_000) peer.socket.write(batch);
    peer.socket.write('PING\r\n');
    await waitFor(() => peer.received().includes('+PONG\r\n'));
    expect(peer.received()).toBe(
      '-TOOLARGE request of 1000001 arguments exceeds the limit of 4096 arguments\r\n+PONG\r\n',
    );
    expect(await c.send(0, ['EXISTS', ...Array.from({ length: 1024 }, (_, i) => `k${i}`)])).toBe(0);
  });

  it('refuses expiries past what a record holds without counting a write', async () => {
    const c = (cluster = await startCluster(1, { writeQuorum: 1 }));
    for (const args of [
      ['PX', '281474976710656'],
      ['EX', '999999999999999'],
      ['EX', '9999999999999999'],
      ['EX', '10', 'PX', '100'],
      ['PX', '100', 'PX', '100'],
      ['EX', '0'],
    ])
      expect(await errorOf(c.send(0, ['SET', 'ttl', 'v', ...args]))).toMatch(/^WRONGARGS /);
    const replication = await info(c, 0, 'replication');
    expect(replication.coordinated_writes).toBe('0');
    expect(replication.writes_unavailable).toBe('0');
    expect(await c.send(0, ['DBSIZE'])).toBe(0);
  });

  it('hands an expired key to peers without its value (FETCH, SYNC_GET)', async () => {
    const c = (cluster = await startCluster(1, { writeQuorum: 1 }));
    await c.send(0, ['SET', 'short', 'secret', 'PX', '50']);
    await c.send(0, ['SET', 'long', 'kept']);
    await waitFor(async () => (await c.send(0, ['GET', 'short'])) === null);
    const fetched = (await c.send(0, ['FETCH', 'short'])) as unknown[];
    expect(fetched[3]).toBeNull();
    expect(fetched[2]).toBeGreaterThan(0);
    const [short, long] = (await c.send(0, ['SYNC_GET', 'short', 'long'])) as unknown[][];
    expect(short?.[3]).toBeNull();
    expect(String(long?.[3])).toBe('kept');
  });
});

describe('connections to a node', () => {
  it('closes one that trickles a request past --request-timeout; idle ones stay', async () => {
    const c = (cluster = await startCluster(1, { requestTimeoutMs: 100, idleTimeoutMs: 0 }));
    const node = c.nodes[0] as KvNode;
    const idle = raw(node);
    idle.socket.write('PING\r\n');
    const slow = raw(node);
    const request = encodeCommand(['SET', 'k', 'x'.repeat(100)]);
    let sent = 0;
    const trickle = setInterval(() => {
      if (sent < request.length) slow.socket.write(request.subarray(sent, ++sent));
    }, 20);
    try {
      await slow.closed;
    } finally {
      clearInterval(trickle);
    }
    expect(slow.received()).toBe('-TIMEOUT request not completed in 100 ms: connection closed\r\n');
    idle.socket.write('PING\r\n');
    await waitFor(() => idle.received() === '+PONG\r\n+PONG\r\n');
  });

  it('stop() resolves within its grace with idle, busy and chatty clients connected', async () => {
    const c = (cluster = await startCluster(1, { shutdownGraceMs: 200, idleTimeoutMs: 0 }));
    const node = c.nodes[0] as KvNode;
    const idle = raw(node);
    const chatty = raw(node);
    const halfway = raw(node);
    idle.socket.write('PING\r\n');
    halfway.socket.write('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10\r\nabc');
    const chatter = setInterval(() => chatty.socket.write('PING\r\n'), 5);
    try {
      await waitFor(() => idle.received() === '+PONG\r\n' && chatty.received().length > 0);
      await node.close({ leave: false });
    } finally {
      clearInterval(chatter);
    }
    await Promise.all([idle.closed, chatty.closed, halfway.closed]);
  });
});
