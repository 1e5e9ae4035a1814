import { createServer, type Server, type Socket } from 'node:net';
import { RespConnection, ReplyError, RequestTimeoutError, UnreachableError } from '@kv/protocol';
import { createClient, type KvClient } from './client';
import type { FallbackEvent, RingChangeEvent } from './events';
import {
  ClientClosedError,
  ClusterUnavailableError,
  CoordinatorUnreachableError,
  InvalidClientOptionError,
  NoNodesError,
} from './errors';
import { LocalCluster, waitFor } from './test-support/cluster';

let cluster: LocalCluster | undefined;
const clients: KvClient[] = [];
const closers: (() => Promise<void>)[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(closers.splice(0).map((close) => close()));
  await cluster?.close();
  cluster = undefined;
});

function client(options: Parameters<typeof createClient>[0] = {}): KvClient {
  const c = createClient({ coordinator: cluster?.address, retryBackoffMs: 10, ...options });
  clients.push(c);
  return c;
}

async function calls(id: string, command: string): Promise<number> {
  const field = await (cluster as LocalCluster).info(id, `cmdstat_${command}`);
  return field === undefined ? 0 : Number(field.replace('calls=', ''));
}

/** A port nothing listens on. */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as { port: number };
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** Accepts connections and never answers, like a paused process. */
async function silentServer(): Promise<number> {
  const sockets: Socket[] = [];
  const server: Server = createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return (server.address() as { port: number }).port;
}

const keys = Array.from({ length: 40 }, (_, i) => `user:${i}`);

describe('KvClient against a cluster', () => {
  it('stores, reads, checks and deletes values, as text or bytes', async () => {
    cluster = await LocalCluster.start(3);
    const c = client();
    await c.put('user:1', 'Alice');
    expect(await c.getString('user:1')).toBe('Alice');
    expect(await c.exists('user:1')).toBe(true);
    const bytes = Buffer.from([0, 255, 13, 10, 36]);
    await c.put(Buffer.from('bin\r\nkey'), bytes);
    expect(await c.get(Buffer.from('bin\r\nkey'))).toEqual(bytes);
    expect(await c.delete('user:1')).toBe(true);
    expect(await c.delete('user:1')).toBe(false);
    expect(await c.get('user:1')).toBeNull();
    expect(await c.getString('never')).toBeNull();
    expect(await c.exists('never')).toBe(false);
  });

  it('sends each request straight to the key primary', async () => {
    cluster = await LocalCluster.start(3);
    const c = client();
    for (const key of keys) await c.put(key, `v-${key}`, { writeQuorum: 3 });
    for (const key of keys) expect((await c.getEntry(key)).fromReplica).toBe(false);
    const { ring } = await c.ring();
    for (const node of cluster.nodes) {
      const owned = keys.filter((k) => ring.primary(k) === node.id).length;
      expect(await calls(node.id, 'put')).toBe(owned);
      expect(await calls(node.id, 'get')).toBe(owned);
    }
    const entry = await c.getEntry('user:7');
    expect(entry).toEqual({
      value: Buffer.from('v-user:7'),
      node: ring.primary('user:7'),
      primary: ring.primary('user:7'),
      fromReplica: false,
    });
  });

  it('reports where a key lives from the ring it holds', async () => {
    cluster = await LocalCluster.start(3);
    const c = client();
    const { ring, epoch } = await c.ring();
    expect(epoch).toBe(cluster.coordinator?.epoch);
    const [primary, ...replicas] = ring.preferenceList('user:1');
    expect(await c.nodesForKey('user:1')).toEqual({ primary, replicas });
    expect(replicas).toHaveLength(2);
  });

  it('passes TTL and consistency options to the node', async () => {
    cluster = await LocalCluster.start(3);
    const c = client();
    await c.put('session', 'x', { ttlMs: 50, writeQuorum: 3 });
    expect(await c.getString('session', { readQuorum: 3 })).toBe('x');
    await waitFor(async () => (await c.get('session')) === null);
    await expect(c.put('k', 'v', { writeQuorum: 4 })).rejects.toThrow(ReplyError);
    await expect(c.put('k', 'v', { ttlMs: 0 })).rejects.toThrow(InvalidClientOptionError);
    await expect(c.get('k', { readQuorum: 1.5 })).rejects.toThrow(
      'readQuorum must be an integer ≥ 1, got 1.5',
    );
  });

  it('surfaces a refused value as the node error, without retrying it', async () => {
    cluster = await LocalCluster.start(3);
    const c = client();
    const err = (await c.put('x'.repeat(5000), 'v').catch((e: unknown) => e)) as ReplyError;
    expect(err).toBeInstanceOf(ReplyError);
    expect(err.code).toBe('TOOLARGE');
  });

  it('lists the nodes as the coordinator does, and reads a node INFO', async () => {
    cluster = await LocalCluster.start(2);
    const c = client();
    const nodes = await c.listNodes();
    expect(nodes.map((n) => n.id).sort()).toEqual(cluster.nodes.map((n) => n.id).sort());
    for (const n of nodes) {
      expect(n).toMatchObject({ state: 'up', zone: '', weight: 1 });
      expect(n.lastHeartbeatMs).toBeGreaterThanOrEqual(0);
    }
    const id = (cluster.nodes[0] as { id: string }).id;
    const info = await c.nodeInfo(id);
    expect(info['node_id']).toBe(id);
    expect(info['kv_role']).toBe('node');
  });

  it('reads a node INFO as typed figures, and waits until every node serves', async () => {
    cluster = await LocalCluster.start(2);
    const c = client();
    const ids = cluster.nodes.map((n) => n.id);
    await c.waitUntilServing(ids, { intervalMs: 10, timeoutMs: 10_000 });
    const { epoch } = await c.refreshRing();
    const info = await c.inspectNode(ids[0] as string);
    expect(info).toMatchObject({ nodeId: ids[0], ringEpoch: epoch, keys: 0 });
    expect(info.rebalance.phase).toBe('serving');
    expect(info.sections['server']?.['kv_role']).toBe('node');
  });

  it('decommissions a node, which then leaves the ring and stops', async () => {
    cluster = await LocalCluster.start(3);
    const c = client();
    const retiring = cluster.nodes[0] as (typeof cluster.nodes)[number];
    expect(await c.decommission(retiring.id)).toBe('OK leaving: handing off data, then stopping');
    await retiring.closed;
    await waitFor(async () => !(await c.listNodes()).some((n) => n.id === retiring.id));
    await expect(c.decommission(retiring.id)).rejects.toBeInstanceOf(UnreachableError);
  });
});

describe('KvClient when nodes fail', () => {
  it('reads from a replica, in preference order, when the primary is down', async () => {
    cluster = await LocalCluster.start(3);
    const c = client();
    await c.put('user:1', 'Alice', { writeQuorum: 3 });
    const { primary, replicas } = await c.nodesForKey('user:1');
    const events: FallbackEvent[] = [];
    c.on('fallback', (e) => events.push(e));
    await cluster.crash(primary);
    const entry = await c.getEntry('user:1');
    expect(entry).toEqual({
      value: Buffer.from('Alice'),
      node: replicas[0],
      primary,
      fromReplica: true,
    });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      command: 'GET',
      key: 'user:1',
      from: primary,
      to: replicas[0],
    });
    expect(events[0]?.error).toBeInstanceOf(UnreachableError);
  });

  it('writes through the next live replica when the primary is down', async () => {
    cluster = await LocalCluster.start(3);
    const c = client();
    const { primary, replicas } = await c.nodesForKey('user:2');
    await cluster.crash(primary);
    await c.put('user:2', 'Bob');
    for (const id of replicas)
      expect(cluster.node(id).store.value(Buffer.from('user:2'))).toEqual(Buffer.from('Bob'));
  });

  it('says how many replicas acknowledged when the write quorum cannot be met', async () => {
    cluster = await LocalCluster.start(3);
    const c = client({ retries: 1 });
    const { primary, replicas } = await c.nodesForKey('k');
    await cluster.crash(primary);
    await cluster.crash(replicas[0] as string);
    const err = (await c.put('k', 'v').catch((e: unknown) => e)) as ReplyError;
    expect(err).toBeInstanceOf(ReplyError);
    expect(err.message).toMatch(/^UNAVAILABLE 1 of 2 replicas acknowledged/);
  });

  it('refreshes its ring when a node joins and when one is removed', async () => {
    cluster = await LocalCluster.start(3, 300);
    const c = client({ refreshIntervalMs: 50 });
    const changes: RingChangeEvent[] = [];
    c.on('ring', (e) => changes.push(e));
    await c.connect();
    const joined = await cluster.addNode();
    await waitFor(async () => (await c.ring()).ring.has(joined.id));
    const afterJoin = changes.at(-1);
    expect(afterJoin).toMatchObject({ epoch: cluster.coordinator?.epoch, members: 4 });
    expect(afterJoin?.previousEpoch).toBeLessThan(afterJoin?.epoch ?? 0);
    await cluster.crash(joined.id);
    await waitFor(async () => !(await c.ring()).ring.has(joined.id));
    expect(changes.at(-1)).toMatchObject({ epoch: (afterJoin?.epoch ?? 0) + 1, members: 3 });
  });

  it('refreshes its ring when a node it routes to is unreachable', async () => {
    cluster = await LocalCluster.start(4, 300);
    const c = client({ refreshIntervalMs: 0 });
    await c.put('user:3', 'v', { writeQuorum: 3 });
    const { primary } = await c.nodesForKey('user:3');
    await cluster.crash(primary);
    // Once the coordinator has removed the node, the failed request's refresh finds out.
    await waitFor(() => cluster?.coordinator?.ring.has(primary) === false);
    expect(await c.getString('user:3')).toBe('v');
    await waitFor(async () => !(await c.ring()).ring.has(primary));
  });

  it('keeps working with its ring while the coordinator is down', async () => {
    cluster = await LocalCluster.start(3);
    const c = client({ refreshIntervalMs: 20 });
    await c.put('a', '1');
    await cluster.stopCoordinator();
    await new Promise((r) => setTimeout(r, 60));
    await c.put('b', '2');
    expect(await c.getString('a')).toBe('1');
    expect(await c.getString('b')).toBe('2');
    await expect(c.listNodes()).rejects.toThrow(CoordinatorUnreachableError);
  });

  it('learns a newer ring from the nodes while the coordinator is down', async () => {
    cluster = await LocalCluster.start(3);
    const c = client({ refreshIntervalMs: 0 });
    await c.connect();
    const joined = await cluster.addNode();
    await waitFor(() => cluster?.nodes.every((n) => n.ring?.size === 4) === true);
    const latest = cluster.coordinator?.epoch;
    await cluster.stopCoordinator();
    const { epoch, ring } = await c.refreshRing();
    expect(epoch).toBe(latest);
    expect(ring.has(joined.id)).toBe(true);
  });

  it('bootstraps from a seed node when the coordinator is down, and stores and reads', async () => {
    cluster = await LocalCluster.start(3);
    const seeds = cluster.nodes.map((n) => n.id);
    await cluster.stopCoordinator();
    const c = client({ coordinator: cluster.address, seeds, refreshIntervalMs: 0 });
    await c.put('user:1', 'Alice');
    expect(await c.getString('user:1')).toBe('Alice');
    const { from, ring } = await c.ring();
    expect(seeds).toContain(from);
    expect(ring.size).toBe(3);
    const err = (await c.listNodes().catch((e: unknown) => e)) as CoordinatorUnreachableError;
    expect(err).toBeInstanceOf(CoordinatorUnreachableError);
    expect(err.attempts.map((a) => [a.address, a.role])).toEqual([
      [cluster.address, 'coordinator'],
      ...seeds.map((s) => [s, 'seed']),
    ]);
    expect(err.attempts[1]?.reason).toBe('not a coordinator');
  });

  it('asks the seeds for the member list, passing over nodes to a coordinator', async () => {
    cluster = await LocalCluster.start(2);
    const [node] = cluster.nodes.map((n) => n.id);
    const c = client({ coordinator: [], seeds: [node as string, cluster.address] });
    expect((await c.listNodes()).map((n) => n.state)).toEqual(['up', 'up']);
  });

  it('fails with a typed timeout when a node accepts but never answers', async () => {
    cluster = await LocalCluster.start(0);
    const port = await silentServer();
    const raw = await RespConnection.connect({ port: cluster.coordinatorPort });
    await raw.send(['REGISTER_NODE', '127.0.0.1', String(port)]);
    raw.destroy();
    const c = client({ requestTimeoutMs: 100, retries: 1 });
    const err = (await c.get('k').catch((e: unknown) => e)) as ClusterUnavailableError;
    expect(err).toBeInstanceOf(ClusterUnavailableError);
    expect(err.message).toBe(
      `no node could serve GET k: 127.0.0.1:${port} is unreachable (no reply within 100 ms)`,
    );
    expect(err.failures[0]?.node).toBe(`127.0.0.1:${port}`);
    expect(err.failures[0]?.error.cause).toBeInstanceOf(RequestTimeoutError);
  });
});

describe('KvClient without a cluster', () => {
  it('says the coordinator cannot be reached, and whether it is running', async () => {
    const port = await freePort();
    const c = client({ coordinator: `127.0.0.1:${port}` });
    const err = (await c.get('k').catch((e: unknown) => e)) as CoordinatorUnreachableError;
    expect(err).toBeInstanceOf(CoordinatorUnreachableError);
    expect(err.message).toBe(
      `cannot reach coordinator at 127.0.0.1:${port} (ECONNREFUSED): is it running?`,
    );
    await expect(c.connect()).rejects.toThrow(CoordinatorUnreachableError);
  });

  it('says when no node has registered', async () => {
    cluster = await LocalCluster.start(0);
    const c = client();
    await expect(c.put('k', 'v')).rejects.toThrow(NoNodesError);
    await expect(c.nodesForKey('k')).rejects.toThrow(
      `no storage nodes are registered with the coordinator at ${cluster.address}`,
    );
    expect(await c.listNodes()).toEqual([]);
  });

  it('refuses invalid options', () => {
    expect(() => createClient({ coordinator: 'nowhere' })).toThrow(
      "coordinator must be host:port, got 'nowhere'",
    );
    expect(() => createClient({ retries: -1 })).toThrow(InvalidClientOptionError);
    expect(() => createClient({ requestTimeoutMs: 0 })).toThrow(InvalidClientOptionError);
  });
});

describe('KvClient.close', () => {
  it('closes its connections and refuses further requests', async () => {
    const local = (cluster = await LocalCluster.start(3));
    const ids = local.nodes.map((n) => n.id);
    const c = client();
    for (const key of keys) await c.put(key, 'v');
    const connected = async (): Promise<number[]> =>
      (await Promise.all(ids.map((id) => local.info(id, 'connected_clients')))).map(Number);
    // Node-to-node connections count too: the client's is one on each node it talked to.
    const during = await connected();
    await c.close();
    await waitFor(async () => (await connected()).every((n, i) => n === (during[i] as number) - 1));
    await expect(c.get('k')).rejects.toThrow(ClientClosedError);
    await expect(c.listNodes()).rejects.toThrow('the client is closed');
  });

  it('fails requests in flight with ClientClosedError', async () => {
    cluster = await LocalCluster.start(0);
    const port = await silentServer();
    const raw = await RespConnection.connect({ port: cluster.coordinatorPort });
    await raw.send(['REGISTER_NODE', '127.0.0.1', String(port)]);
    raw.destroy();
    const c = client({ requestTimeoutMs: 10_000 });
    const pending = c.get('k').catch((e: unknown) => e);
    await waitFor(async () => (await c.ring()).ring.size === 1);
    await new Promise((r) => setTimeout(r, 20));
    await c.close();
    expect(await pending).toBeInstanceOf(ClientClosedError);
  });
});
