import Redis from 'ioredis';
import type { KvNode } from './node';
import { admitsMemberRequests } from './admission';
import { createNodeRouter } from './node-commands';
import { infoFields, startCluster, type TestCluster } from './test-support/cluster';

const SECRET = Buffer.from('a cluster secret for the admission tests, 32+ bytes');

let cluster: TestCluster | undefined;
const clients: Redis[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.disconnect();
  await cluster?.close();
  cluster = undefined;
});

async function redis(node: KvNode): Promise<Redis> {
  const c = new Redis({
    port: node.port,
    host: '127.0.0.1',
    lazyConnect: true,
    maxRetriesPerRequest: 0,
  });
  clients.push(c);
  await c.connect();
  return c;
}

describe('--max-in-flight on a node', () => {
  it('serves floods of writes on every node at a bound of 1, as members replicate past it', async () => {
    // At a bound of 1 every node holds its clients while its one write waits for another
    // node's acknowledgement: were members' connections held too, the nodes would wait on
    // each other until the replica timeout. A long timeout makes any such wait a failure
    // of this test rather than a hint. The secret makes every member connection begin
    // with the member challenge, which must pass the bound as well.
    cluster = await startCluster(3, {
      maxInFlight: 1,
      clusterSecret: SECRET,
      replicaTimeoutMs: 60_000,
    });
    const perNode = 4;
    const writes = 100;
    const floods = await Promise.all(
      cluster.nodes.flatMap((node, n) =>
        Array.from({ length: perNode }, async (_, c) => {
          const client = await redis(node);
          const pipeline = client.pipeline();
          for (let i = 0; i < writes; i++) pipeline.set(`k${n}.${c}.${i}`, `v${i}`);
          return ((await pipeline.exec()) ?? []).map(([err, reply]) => err ?? reply);
        }),
      ),
    );
    expect(floods.flat()).toEqual(Array.from({ length: 3 * perNode * writes }, () => 'OK'));
    const infos = await Promise.all([0, 1, 2].map((i) => infoFields(cluster as TestCluster, i)));
    for (const info of infos) {
      expect(info['max_in_flight']).toBe('1');
      expect(info['replica_failures']).toBe('0');
      expect(info['hints_pending']).toBe('0');
      expect(info['member_connections_lost']).toBe('0');
    }
    // The bound was reached: clients were held.
    expect(infos.some((info) => Number(info['connections_held']) > 0)).toBe(true);
    const first = await redis(cluster.nodes[0] as KvNode);
    expect(await first.get('k2.3.99')).toBe('v99');
  });

  it('shows the bounds in INFO and CONFIG GET, and in /metrics', async () => {
    cluster = await startCluster(1, {
      writeQuorum: 1,
      maxInFlight: 64,
      maxReplicaQueue: 500,
      metricsPort: 0,
    });
    const node = cluster.nodes[0] as KvNode;
    const info = await infoFields(cluster, 0);
    expect(info).toMatchObject({
      max_in_flight: '64',
      requests_in_flight: '0',
      held_clients: '0',
      max_replica_queue: '500',
      replica_overloaded: '0',
    });
    const client = await redis(node);
    expect(await client.config('GET', 'kv-max-in-flight', 'kv-max-replica-queue')).toEqual([
      'kv-max-in-flight',
      '64',
      'kv-max-replica-queue',
      '500',
    ]);
    const scraped = await (await fetch(`http://127.0.0.1:${node.metricsPort}/metrics`)).text();
    for (const line of [
      'kv_requests_in_flight 0',
      'kv_connections_held 0',
      'kv_connections_held_total 0',
      'kv_replica_overloaded_total 0',
    ])
      expect(scraped.split('\n')).toContain(line);
  });
});

describe('admitsMemberRequests', () => {
  it("serves at the bound what a member's connection may send first, and no other client command", () => {
    const admits = admitsMemberRequests(createNodeRouter());
    const admitted = (name: string): boolean => admits([Buffer.from(name), Buffer.from('k')]);
    for (const name of [
      'REPLICATE',
      'replicate_batch',
      'FETCH',
      'SYNC_HINTS',
      'AUTH_CHALLENGE',
      'AUTH_MEMBER',
      'TIME',
      'BACKUP',
    ])
      expect([name, admitted(name)]).toEqual([name, true]);
    for (const name of ['GET', 'SET', 'DEL', 'AUTH', 'PING', 'NO_SUCH_COMMAND'])
      expect([name, admitted(name)]).toEqual([name, false]);
  });
});
