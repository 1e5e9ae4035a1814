import { connect } from 'node:net';
import { startCoordinator } from '@kv/coordinator';
import Redis from 'ioredis';
import { ReplyError, RespConnection, SimpleString, encodeCommand } from '@kv/protocol';
import { Ring } from '@kv/ring';
import { startNode, type KvNode } from './node';
import { LOGICAL_BITS } from './hlc';
import { NodeCommand, replicateArgs } from './replication';
import { startCluster, waitFor, type TestCluster } from './test-support/cluster';

let cluster: TestCluster | undefined;

afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

const holders = (c: TestCluster, key: string): string[] =>
  c.nodes
    .filter((n) => n.store.read(Buffer.from(key)) !== undefined)
    .map((n) => n.id)
    .sort();

describe('storage node in a cluster', () => {
  it('puts through any node onto exactly the preference-list nodes, with identical versions', async () => {
    cluster = await startCluster(4);
    const c = cluster;
    const ring = c.nodes[0]?.ring;
    for (let i = 0; i < 40; i++) {
      const key = `user:${i}`;
      expect(await c.send(i % 4, ['PUT', key, `value ${i}`])).toEqual(new SimpleString('OK'));
      const expected = (ring?.preferenceList(key) ?? []).slice().sort();
      // W=2 answers before the third replica may have applied; it follows shortly.
      await waitFor(() => holders(c, key).length === 3);
      expect(holders(c, key)).toEqual(expected);
      const versions = c.nodes
        .map((n) => n.store.read(Buffer.from(key)))
        .filter((r) => r !== undefined);
      expect(new Set(versions.map((r) => `${r.ts}/${r.origin}`)).size).toBe(1);
    }
    for (let i = 0; i < 40; i++) {
      for (let n = 0; n < 4; n++)
        expect(String(await c.send(n, ['GET', `user:${i}`]))).toBe(`value ${i}`);
    }
  });

  it('keeps binary values and values with spaces and newlines intact', async () => {
    cluster = await startCluster(3);
    const binary = Buffer.from([0, 1, 2, 13, 10, 255, 36, 42]);
    await cluster.send(0, ['SET', 'bin', binary]);
    await cluster.send(1, ['SET', 'text', 'Alice Smith\nline two\r\n']);
    expect(await cluster.send(2, ['GET', 'bin'])).toEqual(binary);
    expect(String(await cluster.send(0, ['GET', 'text']))).toBe('Alice Smith\nline two\r\n');
    expect(await cluster.send(0, ['GET', 'missing'])).toBeNull();
  });

  it('writes with W=2 when one replica is down and fails clearly when two are', async () => {
    cluster = await startCluster(3);
    await cluster.nodes[2]?.close({ leave: false });
    expect(await cluster.send(0, ['PUT', 'k1', 'v1', 'W', '2'])).toEqual(new SimpleString('OK'));
    expect(cluster.nodes[1]?.store.value(Buffer.from('k1'))?.toString()).toBe('v1');
    expect(cluster.nodes[0]?.store.value(Buffer.from('k1'))?.toString()).toBe('v1');
    await cluster.nodes[1]?.close({ leave: false });
    const err = await cluster.send(0, ['PUT', 'k2', 'v2', 'W', '2']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReplyError);
    expect((err as ReplyError).message).toBe('UNAVAILABLE 1 of 2 replicas acknowledged');
    // Old keys are still readable from the survivor.
    expect(String(await cluster.send(0, ['GET', 'k1']))).toBe('v1');
  });

  it('reads the newest of R replicas and repairs the stale one', async () => {
    cluster = await startCluster(3);
    const c = cluster;
    await c.send(0, ['PUT', 'k', 'new', 'W', '3']);
    const stale = c.nodes[1] as KvNode;
    const current = stale.store.read(Buffer.from('k'));
    // Put an older copy back on one replica, as a missed write would leave it.
    await stale.store.remove(Buffer.from('k'));
    await stale.store.apply(Buffer.from('k'), {
      value: Buffer.from('old'),
      ts: (current?.ts ?? 2) - 1,
      origin: 'x',
      expiresAt: 0,
    });
    expect(String(await c.send(1, ['GET', 'k', 'R', '3']))).toBe('new');
    await waitFor(() => stale.store.value(Buffer.from('k'))?.toString() === 'new');
  });

  it('a replayed older write does not resurrect a deleted key', async () => {
    cluster = await startCluster(3);
    const c = cluster;
    await c.send(0, ['PUT', 'k', 'v', 'W', '3']);
    const written = c.nodes[0]?.store.read(Buffer.from('k'));
    expect(await c.send(1, ['DELETE', 'k', 'W', '3'])).toBe(1);
    // The original REPLICATE arrives again, late, at every node.
    for (let i = 0; i < 3; i++) {
      const reply = await c.send(i, replicateArgs(Buffer.from('k'), written as never));
      expect((reply as number[])[0]).toBe(0);
    }
    for (let i = 0; i < 3; i++) expect(await c.send(i, ['GET', 'k'])).toBeNull();
    expect(await c.send(2, ['EXISTS', 'k'])).toBe(0);
    expect(await c.send(2, ['DEL', 'k'])).toBe(0);
  });

  it('expires TTL keys on every replica', async () => {
    cluster = await startCluster(3);
    const c = cluster;
    await c.send(0, ['SET', 'session', 'x', 'PX', '150', 'W', '3']);
    const expiries = c.nodes.map((n) => n.store.read(Buffer.from('session'))?.expiresAt);
    expect(new Set(expiries).size).toBe(1);
    expect(expiries[0]).toBeGreaterThan(0);
    expect(String(await c.send(1, ['GET', 'session']))).toBe('x');
    await waitFor(async () => (await c.send(2, ['GET', 'session'])) === null);
    for (let i = 0; i < 3; i++) expect(await c.send(i, ['GET', 'session'])).toBeNull();
    await c.send(0, ['SET', 'long', 'y', 'EX', '100']);
    expect(c.nodes[0]?.store.read(Buffer.from('long'))?.expiresAt).toBeGreaterThan(
      Date.now() + 90_000,
    );
  });

  it('answers bad input with clear errors and keeps serving', async () => {
    cluster = await startCluster(3, { maxKeyBytes: 16, maxValueBytes: 1024 });
    const c = cluster;
    const errorOf = (args: (string | Buffer)[]) =>
      c.send(0, args).then(
        () => 'no error',
        (e: Error) => e.message,
      );
    expect(await errorOf(['PUT', 'k'.repeat(17), 'v'])).toBe(
      'TOOLARGE key of 17 bytes exceeds the limit of 16 bytes',
    );
    expect(await errorOf(['PUT', 'k', Buffer.alloc(2000)])).toBe(
      'TOOLARGE argument of 2000 bytes exceeds the limit of 1024 bytes',
    );
    expect(await errorOf(['FLY', 'me'])).toBe("ERR unknown command 'FLY'");
    expect(await errorOf(['constructor'])).toBe("ERR unknown command 'constructor'");
    expect(await errorOf(['__proto__'])).toBe("ERR unknown command '__proto__'");
    expect(await errorOf(['GET'])).toBe(
      "WRONGARGS wrong number of arguments for 'GET': GET key [R n]",
    );
    expect(await errorOf(['PUT', 'k', 'v', 'PX'])).toBe('WRONGARGS option PX needs a value');
    expect(await errorOf(['PUT', 'k', 'v', 'EX', 'soon'])).toBe(
      "WRONGARGS EX seconds must be an integer ≥ 1, got 'soon'",
    );
    expect(await errorOf(['PUT', 'k', 'v', 'W', '9'])).toBe(
      'WRONGARGS write quorum must be between 1 and 3',
    );
    expect(await errorOf(['SELECT', '1'])).toBe(
      'ERR DB index is out of range: kv has only database 0',
    );
    expect(await c.send(0, ['PUT', 'k', 'v'])).toEqual(new SimpleString('OK'));
    expect(c.nodes[0]?.store.read(Buffer.from('k'.repeat(17)))).toBeUndefined();
  });

  it('refuses expiries past what a record holds, and multi-key commands past their limit', async () => {
    cluster = await startCluster(3);
    const c = cluster;
    const errorOf = (args: (string | number | Buffer)[]) =>
      c.send(0, args).then(
        () => 'no error',
        (e: Error) => e.message,
      );
    for (const [option, value] of [
      ['PX', '281474976710656'],
      ['EX', '999999999999999'],
    ])
      expect(await errorOf(['PUT', 'ttl', 'v', option as string, value as string])).toBe(
        `WRONGARGS invalid expire time in '${option}'`,
      );
    expect(await errorOf(['PUT', 'ttl', 'v', 'EX', '10', 'PX', '100'])).toBe(
      'WRONGARGS EX and PX cannot be given together',
    );
    expect(await errorOf(['REPLICATE', 'ttl', 1, 'a:1', 2 ** 48, 'v'])).toBe(
      'WRONGARGS expiresAt must be an integer from 0 to 281474976710655',
    );
    const many = Array.from({ length: 1025 }, (_, i) => `k${i}`);
    for (const command of ['DEL', 'EXISTS'])
      expect(await errorOf([command, ...many])).toBe(
        `TOOLARGE ${command === 'DEL' ? 'DELETE' : 'EXISTS'} names 1025 keys, at most 1024 per command: send them in batches`,
      );
    expect(await c.send(0, ['EXISTS', ...many.slice(0, 1024)])).toBe(0);
    for (const node of c.nodes) expect(node.store.read(Buffer.from('ttl'))).toBeUndefined();
  });

  it('understands inline commands as redis-cli and nc send them', async () => {
    cluster = await startCluster(3);
    const socket = connect({ port: (cluster.nodes[0] as KvNode).port, host: '127.0.0.1' });
    let data = '';
    socket.on('data', (d: Buffer) => (data += d.toString()));
    socket.write('PUT user:1 "Alice Smith"\r\nGET user:1\r\nPING\r\nDBSIZE\r\n');
    await waitFor(() => data.includes('+PONG\r\n:'));
    socket.destroy();
    expect(data).toBe('+OK\r\n$11\r\nAlice Smith\r\n+PONG\r\n:1\r\n');
  });

  it('works with ioredis, pipelined', async () => {
    cluster = await startCluster(3);
    const redis = new Redis({
      port: (cluster.nodes[1] as KvNode).port,
      host: '127.0.0.1',
      lazyConnect: true,
      maxRetriesPerRequest: 0,
    });
    await redis.connect();
    try {
      expect(await redis.set('a', '1')).toBe('OK');
      expect(await redis.get('a')).toBe('1');
      expect(await redis.exists('a', 'nope')).toBe(1);
      expect(await redis.del('a')).toBe(1);
      expect(await redis.get('a')).toBeNull();
      expect(await redis.ping()).toBe('PONG');
      expect(await redis.info('replication')).toMatch(/ring_members:3/);
      const pipeline = redis.pipeline();
      for (let i = 0; i < 200; i++) pipeline.set(`p${i}`, `v${i}`);
      for (let i = 0; i < 200; i++) pipeline.get(`p${i}`);
      const results = (await pipeline.exec()) ?? [];
      expect(results.slice(200).map(([, v]) => v)).toEqual(
        Array.from({ length: 200 }, (_, i) => `v${i}`),
      );
    } finally {
      redis.disconnect();
    }
  });

  it('serves node-to-node FETCH with the full record', async () => {
    cluster = await startCluster(3);
    await cluster.send(0, ['PUT', 'k', 'v', 'W', '3']);
    const reply = (await cluster.send(1, [NodeCommand.fetch, 'k'])) as unknown[];
    expect(reply[1]).toEqual(Buffer.from(cluster.nodes[0]?.id ?? ''));
    expect(reply[3]).toEqual(Buffer.from('v'));
  });

  it('does not answer reads alone after failing to reach a member, until a round with every member', async () => {
    cluster = await startCluster(3, { antiEntropyIntervalMs: 0 }, { failureTimeoutMs: 400 });
    expect(await cluster.send(0, ['PUT', 'k', 'v', 'W', '3'])).toEqual(new SimpleString('OK'));
    // Answers alone once its first rounds have synced what it owns.
    await waitFor(async () => {
      const reply = await cluster?.send(0, [NodeCommand.fetch, 'k', 'ALONE']).catch(() => null);
      return Array.isArray(reply) && reply[0] === 1;
    });
    await cluster.nodes[2]?.close({ leave: false });
    // The write cannot reach the third replica: writes it coordinated may not reach this one.
    expect(await cluster.send(0, ['PUT', 'k', 'v2'])).toEqual(new SimpleString('OK'));
    const asked = (await cluster.send(0, [NodeCommand.fetch, 'k', 'ALONE'])) as unknown[];
    expect(asked[0]).toBe(0);
    expect((asked[1] as unknown[])[3]).toEqual(Buffer.from('v2'));
    // Once the coordinator removed it, a round completes with every member left.
    await waitFor(async () => {
      const reply = await cluster?.send(0, [NodeCommand.fetch, 'k', 'ALONE']).catch(() => null);
      return Array.isArray(reply) && reply[0] === 1;
    });
    expect(cluster.nodes[0]?.ring?.size).toBe(2);
  });

  it("counts a member's dropped replication connection, not a reader's nor one it closed itself", async () => {
    cluster = await startCluster(3, { antiEntropyIntervalMs: 0, idleTimeoutMs: 300 });
    const port = cluster.nodes[0]?.port as number;
    const lost = async (): Promise<number> => {
      const info = ((await cluster?.send(0, ['INFO', 'rebalance'])) as Buffer).toString();
      return Number(/member_connections_lost:(\d+)/.exec(info)?.[1]);
    };
    const open = (): Promise<RespConnection> => RespConnection.connect({ port });
    const record = { ts: Date.now() * 2 ** LOGICAL_BITS, origin: 'elsewhere:1', expiresAt: 0 };
    // A client's connection and a reading tool's, closed by their peers: nothing missed.
    for (const command of [
      ['GET', 'k'],
      [NodeCommand.fetch, 'k'],
    ]) {
      const reader = await open();
      await reader.send(command);
      reader.destroy();
    }
    // A replication connection the node closes itself when idle: nothing missed either.
    const idle = await open();
    await idle.send(replicateArgs(Buffer.from('a'), { ...record, value: Buffer.from('1') }));
    await new Promise((resolve) => idle.once('close', resolve));
    expect(await lost()).toBe(0);
    // A member gives up on its replication connection (as a timed-out request makes it):
    // counted, and the node reads with another replica until a round with every member.
    const member = await open();
    await member.send(replicateArgs(Buffer.from('b'), { ...record, value: Buffer.from('2') }));
    member.destroy();
    await waitFor(async () => (await lost()) === 1);
    await waitFor(async () => {
      const reply = await cluster?.send(0, [NodeCommand.fetch, 'k', 'ALONE']).catch(() => null);
      return Array.isArray(reply) && reply[0] === 1;
    });
  });

  it('told by a member that writes for it became hints, reads with another replica until a round', async () => {
    cluster = await startCluster(3, { antiEntropyIntervalMs: 0 });
    const c = cluster;
    const alone = async (): Promise<boolean> => {
      const reply = await c.send(0, [NodeCommand.fetch, 'k', 'ALONE']).catch(() => null);
      return Array.isArray(reply) && reply[0] === 1;
    };
    await waitFor(alone);
    const member = await RespConnection.connect({ port: c.nodes[0]?.port as number });
    try {
      // Sent together: the read is served in the same turn as the notice, before any round.
      const [notice, read] = await Promise.all([
        member.send([NodeCommand.replicaMissed]),
        member.send([NodeCommand.fetch, 'k', 'ALONE']),
      ]);
      expect(notice).toEqual(new SimpleString('OK'));
      expect((read as unknown[])[0]).toBe(0);
      await expect(member.send([NodeCommand.replicaMissed, 'extra'])).rejects.toThrow(/^WRONGARGS/);
    } finally {
      member.destroy();
    }
    const info = ((await c.send(0, ['INFO', 'rebalance'])) as Buffer).toString();
    expect(/missed_write_notices:(\d+)/.exec(info)?.[1]).toBe('1');
    expect(c.nodes[0]?.metrics.counters.missedWriteNotices.value).toBe(1);
    // The sync round the notice started collects the hints; then it answers alone again.
    await waitFor(alone);
  });

  it('does not answer a read alone for an asker at a newer ring epoch than its own', async () => {
    cluster = await startCluster(1, { antiEntropyIntervalMs: 0 });
    const c = cluster;
    const fetch = async (...extra: string[]): Promise<unknown> =>
      c.send(0, [NodeCommand.fetch, 'k', 'ALONE', ...extra]);
    await waitFor(async () => {
      const reply = await fetch().catch(() => null);
      return Array.isArray(reply) && reply[0] === 1;
    });
    const epoch = c.nodes[0]?.placement?.epoch as number;
    expect(((await fetch(String(epoch))) as unknown[])[0]).toBe(1);
    expect(((await fetch(String(epoch - 1))) as unknown[])[0]).toBe(1);
    expect(((await fetch(String(epoch + 1))) as unknown[])[0]).toBe(0);
    for (const bad of ['-1', '1.5', 'x', '9'.repeat(16)])
      await expect(fetch(bad)).rejects.toThrow(/^WRONGARGS the epoch of FETCH/);
  });

  it('does not answer reads alone for a key it does not own', async () => {
    cluster = await startCluster(4, { antiEntropyIntervalMs: 0 });
    const node = cluster.nodes[0] as KvNode;
    const owned = (k: string): boolean => node.ring?.preferenceList(k).includes(node.id) === true;
    const keys = Array.from({ length: 100 }, (_, i) => `whose:${i}`);
    const mine = keys.find(owned) as string;
    const other = keys.find((k) => !owned(k)) as string;
    // Answers alone for its own keys once its first rounds have synced them.
    await waitFor(async () => {
      const reply = await cluster?.send(0, [NodeCommand.fetch, mine, 'ALONE']).catch(() => null);
      return Array.isArray(reply) && reply[0] === 1;
    });
    expect(((await cluster.send(0, [NodeCommand.fetch, other, 'ALONE'])) as unknown[])[0]).toBe(0);
  });

  it('serves its ring like the coordinator: whole, or the epoch alone when current', async () => {
    cluster = await startCluster(2);
    // Node 1 joined (epoch 2) and, having copied its ranges, was made ready (epoch 3).
    await waitFor(() => cluster?.nodes.every((n) => n.placement?.epoch === 3) === true);
    const [epoch, json] = (await cluster.send(0, ['RING'])) as [number, Buffer];
    expect(epoch).toBe(3);
    expect(Ring.fromJSON(JSON.parse(json.toString())).members.map((m) => m.id)).toEqual(
      cluster.nodes.map((n) => n.id).sort(),
    );
    expect(await cluster.send(1, ['RING', '3'])).toEqual([3]);
    expect(await cluster.send(1, ['RING', '1'])).toEqual([3, json]);
    await expect(cluster.send(1, ['RING', 'x'])).rejects.toThrow(/WRONGARGS known-epoch/);
  });
});

describe('storage node without a coordinator', () => {
  it('starts, says clearly that it has no ring, and joins once the coordinator appears', async () => {
    const probe = await startCoordinator({ host: '127.0.0.1', port: 0, silent: true });
    const port = probe.port;
    await probe.close();
    const node = await startNode({
      port: 0,
      coordinator: `127.0.0.1:${port}`,
      heartbeatIntervalMs: 50,
      silent: true,
      writeQuorum: 1,
    });
    const conn = await RespConnection.connect({ port: node.port });
    try {
      await expect(conn.send(['GET', 'k'])).rejects.toThrow(
        'UNAVAILABLE no ring yet: this node has not reached the coordinator',
      );
      await expect(conn.send(['RING'])).rejects.toThrow('UNAVAILABLE this node has no ring yet');
      const coordinator = await startCoordinator({
        host: '127.0.0.1',
        port,
        heartbeatIntervalMs: 50,
        silent: true,
      });
      try {
        await waitFor(() => node.ring?.size === 1);
        expect(await conn.send(['PUT', 'k', 'v'])).toEqual(new SimpleString('OK'));
        expect(String(await conn.send(['GET', 'k']))).toBe('v');
      } finally {
        conn.destroy();
        await node.close();
        await coordinator.close();
      }
    } finally {
      conn.destroy();
    }
  });

  it('given several coordinators, registers and heartbeats through the one that answers', async () => {
    const gone = await startCoordinator({ host: '127.0.0.1', port: 0, silent: true });
    const deadPort = gone.port;
    await gone.close();
    const coordinator = await startCoordinator({
      host: '127.0.0.1',
      port: 0,
      heartbeatIntervalMs: 50,
      silent: true,
    });
    const node = await startNode({
      port: 0,
      coordinator: `127.0.0.1:${deadPort}, 127.0.0.1:${coordinator.port}`,
      heartbeatIntervalMs: 50,
      silent: true,
      writeQuorum: 1,
    });
    const conn = await RespConnection.connect({ port: node.port });
    try {
      await waitFor(() => node.ring?.size === 1);
      expect(coordinator.members().map((m) => [m.id, m.state])).toEqual([
        [`127.0.0.1:${node.port}`, 'up'],
      ]);
      const info = String(await conn.send(['INFO', 'replication']));
      expect(info).toContain(`coordinator:127.0.0.1:${coordinator.port}\r\n`);
      expect(info).toContain('coordinator_connected:1');
    } finally {
      conn.destroy();
      await node.close();
      await coordinator.close();
    }
  });

  it('refuses invalid options with a clear error', async () => {
    await expect(startNode({ port: 0, writeQuorum: 0, silent: true })).rejects.toThrow(
      /write quorum must be an integer between 1/,
    );
    await expect(startNode({ port: 0, coordinator: 'nowhere', silent: true })).rejects.toThrow(
      "coordinator must be host:port, got 'nowhere'",
    );
    await expect(
      startNode({ port: 0, coordinator: '127.0.0.1:5000,', silent: true }),
    ).rejects.toThrow("coordinator must be host:port, got ''");
  });
});

test('encodeCommand is what a peer sends for REPLICATE', () => {
  expect(
    encodeCommand(
      replicateArgs(Buffer.from('k'), { value: null, ts: 5, origin: 'a:1', expiresAt: 0 }),
    ).toString(),
  ).toBe('*5\r\n$9\r\nREPLICATE\r\n$1\r\nk\r\n$1\r\n5\r\n$3\r\na:1\r\n$1\r\n0\r\n');
});
