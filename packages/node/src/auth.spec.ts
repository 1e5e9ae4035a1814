import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  Access,
  RespConnection,
  Scope,
  UserTable,
  memberHandshake,
  memberProof,
  parseUsers,
  type RespValue,
} from '@kv/protocol';
import Redis from 'ioredis';
import { main } from './cli';
import { LOGICAL_BITS } from './hlc';
import type { KvNode } from './node';
import { createNodeRouter } from './node-commands';
import { protectedModeRefusal } from './resolve-node-options';
import { replicateArgs, replicateBatchArgs } from './replication';
import { startCluster, waitFor, type TestCluster } from './test-support/cluster';

const run = promisify(execFile);
const SECRET = Buffer.from('a cluster secret for the tests, 32+ bytes');
const USERS = new UserTable(
  parseUsers(
    ['reader read-only >reader-pw', 'writer read-write >writer-pw', 'default read-write >pw'].join(
      '\n',
    ),
  ),
);

let cluster: TestCluster | undefined;
const connections: RespConnection[] = [];

afterEach(async () => {
  for (const c of connections.splice(0)) c.destroy();
  await cluster?.close();
  cluster = undefined;
});

async function connect(port: number, secret?: Buffer): Promise<RespConnection> {
  const c = await RespConnection.connect({
    port,
    handshake: secret === undefined ? undefined : memberHandshake(secret),
  });
  connections.push(c);
  return c;
}

/** What a node holds and how it stands, to show a refused command changed nothing. */
function snapshot(c: TestCluster): unknown {
  return c.nodes.map((n) => ({
    keys: [...n.store.entries()].map(([key, record]) => [key.toString(), record.ts]),
    epoch: n.placement?.epoch,
  }));
}

/** Arguments of the right count for `spec`, so the arity check passes and auth decides. */
function argsFor(name: string, arity: readonly [number, number]): string[] {
  return [name, ...Array.from({ length: arity[0] }, (_, i) => `arg${i}`)];
}

const router = createNodeRouter();
const memberOnly = router.commands.filter((c) => c.spec.scope !== Scope.client);
const clientClosed = router.commands.filter(
  (c) => c.spec.scope === Scope.client && c.spec.access !== Access.open,
);

describe('node with a cluster secret', () => {
  it('declares peer and admin commands for the table below to cover', () => {
    expect(memberOnly.map((c) => c.name)).toEqual(
      expect.arrayContaining(['REPLICATE', 'FETCH', 'SYNC_DIGEST', 'SYNC_GET', 'DECOMMISSION']),
    );
  });

  it.each(memberOnly.map((c) => [c.name, c.spec.arity] as const))(
    'refuses %s without the secret or with a wrong one, and nothing changes',
    async (name, arity) => {
      cluster = await startCluster(2, { clusterSecret: SECRET });
      const c = cluster;
      await c.send(0, ['PUT', 'k', 'v']);
      await waitFor(() => c.nodes.every((n) => n.store.read(Buffer.from('k')) !== undefined));
      const before = snapshot(c);
      const anonymous = await connect((c.nodes[0] as KvNode).port);
      await expect(anonymous.send(argsFor(name, arity))).rejects.toThrow(
        new RegExp(`^NOAUTH '${name}' is for cluster members`),
      );
      const impostor = await connect((c.nodes[1] as KvNode).port);
      await impostor.send(['AUTH_CHALLENGE']);
      await expect(impostor.send(['AUTH_MEMBER', '00'.repeat(32)])).rejects.toThrow(
        /^NOAUTH member proof does not match/,
      );
      await expect(impostor.send(argsFor(name, arity))).rejects.toThrow(/^NOAUTH/);
      const rogue = RespConnection.connect({
        port: (c.nodes[1] as KvNode).port,
        handshake: memberHandshake(Buffer.from('a wrong secret, also 32 bytes long')),
      });
      await expect(rogue).rejects.toThrow(/authentication to .* failed: NOAUTH member proof/);
      expect(snapshot(c)).toEqual(before);
      // Neither node was decommissioned: both still serve.
      expect(String(await c.send(0, ['GET', 'k']))).toBe('v');
      expect(String(await c.send(1, ['GET', 'k']))).toBe('v');
    },
  );

  it('replicates, syncs and serves between members that hold the secret', async () => {
    cluster = await startCluster(3, { clusterSecret: SECRET });
    const c = cluster;
    for (let i = 0; i < 10; i++) await c.send(i % 3, ['PUT', `key:${i}`, `v${i}`, 'W', '3']);
    for (let i = 0; i < 10; i++)
      expect(
        c.nodes.every((n) => n.store.value(Buffer.from(`key:${i}`))?.toString() === `v${i}`),
      ).toBe(true);
    expect(c.nodes.map((n) => n.metrics.counters.replicaFailures.value)).toEqual([0, 0, 0]);
    const joined = await c.addNode();
    await waitFor(() => c.nodes.every((n) => n.ring?.size === 4));
    expect(joined.placement?.epoch).toBe(c.nodes[0]?.placement?.epoch);
  });

  it('refuses a member proof replayed on another connection', async () => {
    cluster = await startCluster(1, { clusterSecret: SECRET, writeQuorum: 1 });
    const port = (cluster.nodes[0] as KvNode).port;
    const member = await connect(port);
    const nonce = String(await member.send(['AUTH_CHALLENGE']));
    const proof = memberProof(SECRET, nonce);
    await member.send(['AUTH_MEMBER', proof]);
    const replay = await connect(port);
    await replay.send(['AUTH_CHALLENGE']);
    await expect(replay.send(['AUTH_MEMBER', proof])).rejects.toThrow(
      /^NOAUTH member proof does not match/,
    );
    await expect(replay.send(['FETCH', 'k'])).rejects.toThrow(/^NOAUTH 'FETCH'/);
    expect(await member.send(['FETCH', 'k'])).toBeNull();
  });

  it('counts no closed connection that replicated nothing: a stranger cannot make a node stale', async () => {
    cluster = await startCluster(1, { clusterSecret: SECRET, writeQuorum: 1 });
    const node = cluster.nodes[0] as KvNode;
    const clients = async (): Promise<number> => {
      const info = String(await cluster?.send(0, ['INFO', 'clients']));
      return Number(/connected_clients:(\d+)/.exec(info)?.[1]);
    };
    const before = await clients();
    // A tool that authenticated and read; a stranger who began the challenge and left.
    const tool = await connect(node.port, SECRET);
    await tool.send(['INFO']);
    tool.destroy();
    const stranger = await connect(node.port);
    await stranger.send(['AUTH_CHALLENGE']);
    await expect(stranger.send(['REPLICATE', 'k', '1', 'x:1', '0', 'v'])).rejects.toThrow(
      /^NOAUTH 'REPLICATE'/,
    );
    stranger.destroy();
    await waitFor(async () => (await clients()) === before);
    expect(node.metrics.counters.memberConnectionsLost.value).toBe(0);
    // A member's connection that carried replicated writes, batched or not: while it dials
    // again the member keeps what it coordinates as hints, so this node's copy is suspect.
    const lost = (): number => node.metrics.counters.memberConnectionsLost.value;
    const record = { ts: Date.now() * 2 ** LOGICAL_BITS, origin: 'm:1', expiresAt: 0 };
    const writes = [
      replicateArgs(Buffer.from('a'), { ...record, value: Buffer.from('v') }),
      replicateBatchArgs([
        { key: Buffer.from('b'), record: { ...record, value: Buffer.from('v') } },
        { key: Buffer.from('c'), record: { ...record, value: null } },
      ]),
    ];
    for (const [i, args] of writes.entries()) {
      const member = await connect(node.port, SECRET);
      expect(Array.isArray(await member.send(args))).toBe(true);
      member.destroy();
      await waitFor(() => lost() === 1 + i);
    }
    expect(node.store.size).toBe(3);
  });

  it('keeps a node with a wrong secret out of the ring', async () => {
    cluster = await startCluster(1, { clusterSecret: SECRET });
    const c = cluster;
    const rogue = await c.addNode({
      clusterSecret: Buffer.from('a wrong secret, also 32 bytes long'),
    });
    await waitFor(async () =>
      /acl_access_denied_auth:[1-9]/.test(String(await coordinatorInfo(c))),
    );
    expect(c.nodes[0]?.ring?.members.map((m) => m.id)).toEqual([c.nodes[0]?.id]);
    expect(rogue.ring).toBeUndefined();
  });
});

async function coordinatorInfo(c: TestCluster): Promise<RespValue> {
  const coordinator = await connect(c.coordinatorPort, SECRET);
  return coordinator.send(['INFO']);
}

describe('node with users', () => {
  const options = { clusterSecret: SECRET, users: USERS, writeQuorum: 1 };

  it.each(clientClosed.map((c) => [c.name, c.spec.arity] as const))(
    'refuses %s before AUTH',
    async (name, arity) => {
      cluster = await startCluster(1, options);
      const c = await connect((cluster.nodes[0] as KvNode).port);
      await expect(c.send(argsFor(name, arity))).rejects.toThrow('NOAUTH Authentication required.');
      expect(cluster.nodes[0]?.store.size).toBe(0);
    },
  );

  it('refuses wrong passwords with WRONGPASS, counting them in INFO and the metrics', async () => {
    cluster = await startCluster(1, options);
    const node = cluster.nodes[0] as KvNode;
    const c = await connect(node.port);
    await expect(c.send(['AUTH', 'writer', 'reader-pw'])).rejects.toThrow(
      'WRONGPASS invalid username-password pair or user is disabled.',
    );
    await expect(c.send(['AUTH', 'wrong'])).rejects.toThrow(/^WRONGPASS/);
    await expect(c.send(['PUT', 'k', 'v'])).rejects.toThrow('NOAUTH Authentication required.');
    expect(node.metrics.counters.authFailures.value).toBe(2);
    expect(await node.metrics.registry.getSingleMetricAsString('kv_auth_failures_total')).toMatch(
      /^kv_auth_failures_total 2$/m,
    );
    await c.send(['AUTH', 'reader', 'reader-pw']);
    expect(String(await c.send(['INFO', 'stats']))).toMatch(/^acl_access_denied_auth:2\r$/m);
  });

  it('lets read-only users read but not write', async () => {
    cluster = await startCluster(1, options);
    const port = (cluster.nodes[0] as KvNode).port;
    const writer = await connect(port);
    await writer.send(['AUTH', 'writer', 'writer-pw']);
    await writer.send(['PUT', 'k', 'v']);
    const reader = await connect(port);
    await reader.send(['AUTH', 'reader', 'reader-pw']);
    expect(String(await reader.send(['GET', 'k']))).toBe('v');
    expect(await reader.send(['EXISTS', 'k'])).toBe(1);
    await expect(reader.send(['PUT', 'k', 'other'])).rejects.toThrow(
      "NOPERM User reader has no permissions to run the 'put' command",
    );
    await expect(reader.send(['DEL', 'k'])).rejects.toThrow(/^NOPERM User reader .* 'del' command/);
    await expect(reader.send(['DECOMMISSION'])).rejects.toThrow(/^NOPERM/);
    expect(String(await writer.send(['GET', 'k']))).toBe('v');
  });

  it('refuses every write command to a read-only user, and no read command', async () => {
    cluster = await startCluster(1, options);
    const port = (cluster.nodes[0] as KvNode).port;
    const writer = await connect(port);
    await writer.send(['AUTH', 'writer', 'writer-pw']);
    await writer.send(['SET', 'arg0', 'v', 'EX', '100']);
    const before = snapshot(cluster);
    const reader = await connect(port);
    await reader.send(['AUTH', 'reader', 'reader-pw']);
    const clientCommands = router.commands.filter((c) => c.spec.scope === Scope.client);
    const refused: string[] = [];
    for (const { name, spec } of clientCommands) {
      if (spec.access === Access.open) continue;
      const error = await reader.send(argsFor(name, spec.arity)).then(
        () => '',
        (e: Error) => e.message,
      );
      if (error.startsWith('NOPERM')) refused.push(name);
    }
    const writes = clientCommands.filter((c) => c.spec.access === Access.write).map((c) => c.name);
    expect(refused).toEqual(writes);
    expect(writes).toEqual(
      expect.arrayContaining(['PUT', 'DELETE', 'MSET', 'EXPIRE', 'PEXPIRE', 'PERSIST', 'INCR']),
    );
    expect(refused).not.toContain('MGET');
    expect(snapshot(cluster)).toEqual(before);
    expect(await reader.send(['TTL', 'arg0'])).toBe(100);
  });

  it('serves ioredis with a username and password, and refuses a wrong one', async () => {
    cluster = await startCluster(1, options);
    const port = (cluster.nodes[0] as KvNode).port;
    const redis = new Redis({
      host: '127.0.0.1',
      port,
      username: 'writer',
      password: 'writer-pw',
      lazyConnect: true,
      maxRetriesPerRequest: 0,
    });
    try {
      await redis.connect();
      expect(await redis.set('user:1', 'Alice')).toBe('OK');
      expect(await redis.get('user:1')).toBe('Alice');
    } finally {
      redis.disconnect();
    }
    const wrong = new Redis({
      host: '127.0.0.1',
      port,
      username: 'writer',
      password: 'nope',
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    const errors: string[] = [];
    wrong.on('error', (err: Error) => errors.push(err.message));
    try {
      await expect(wrong.connect()).rejects.toThrow();
      expect(errors.join('\n')).toMatch(/^WRONGPASS invalid username-password pair/m);
    } finally {
      if (wrong.status !== 'end') wrong.disconnect();
    }
  });

  it('serves redis-cli with --user/--pass and -a', async () => {
    cluster = await startCluster(1, options);
    const port = String((cluster.nodes[0] as KvNode).port);
    const cli = (...args: string[]): Promise<{ stdout: string }> =>
      run('redis-cli', ['-h', '127.0.0.1', '-p', port, '--no-auth-warning', ...args]);
    expect((await cli('--user', 'writer', '--pass', 'writer-pw', 'SET', 'a', '1')).stdout).toBe(
      'OK\n',
    );
    expect((await cli('-a', 'pw', 'GET', 'a')).stdout).toBe('1\n');
    expect((await cli('--user', 'reader', '--pass', 'reader-pw', 'SET', 'a', '2')).stdout).toMatch(
      /NOPERM/,
    );
    expect((await cli('--user', 'reader', '--pass', 'bad', 'GET', 'a')).stdout).toMatch(
      /WRONGPASS|NOAUTH/,
    );
    expect((await cli('GET', 'a')).stdout).toMatch(/NOAUTH Authentication required/);
    expect(cluster.nodes[0]?.store.value(Buffer.from('a'))?.toString()).toBe('1');
  });

  it('serves redis-benchmark with -a', async () => {
    cluster = await startCluster(1, options);
    const port = String((cluster.nodes[0] as KvNode).port);
    const { stdout } = await run('redis-benchmark', [
      '-h',
      '127.0.0.1',
      '-p',
      port,
      '-a',
      'pw',
      '-t',
      'set,get',
      '-n',
      '200',
      '-c',
      '2',
      '-q',
    ]);
    expect(stdout).toMatch(/SET: .*requests per second/);
    expect(stdout).toMatch(/GET: .*requests per second/);
    expect(cluster.nodes[0]?.store.size).toBeGreaterThan(0);
  });
});

describe('protected mode', () => {
  it('refuses to start on a non-loopback address without a secret, exiting non-zero', async () => {
    const written: string[] = [];
    const write = jest
      .spyOn(process.stderr, 'write')
      .mockImplementation((chunk: string | Uint8Array) => (written.push(String(chunk)), true));
    const exitCode = process.exitCode;
    try {
      await main(['--host', '0.0.0.0', '--port', '0'], {});
      expect(process.exitCode).toBe(1);
    } finally {
      write.mockRestore();
      process.exitCode = exitCode;
    }
    expect(written.join('')).toMatch(
      /^kv-node: cannot start: protected mode: refusing to listen on 0\.0\.0\.0 without a cluster secret.*--insecure/,
    );
  });

  it('allows a non-loopback address with a secret or --insecure, and loopback always', () => {
    // Checked without binding: tests listen on 127.0.0.1 only.
    expect(protectedModeRefusal({ host: '10.0.0.5', clusterSecret: SECRET })).toBeUndefined();
    expect(protectedModeRefusal({ host: '0.0.0.0', insecure: true })).toBeUndefined();
    expect(protectedModeRefusal({ host: 'localhost' })).toBeUndefined();
    expect(protectedModeRefusal({ host: '192.168.1.7' })).toMatch(/^protected mode/);
  });
});
