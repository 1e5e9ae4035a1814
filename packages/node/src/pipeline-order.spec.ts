import Redis from 'ioredis';
import type { KvNode } from './node';
import { startCluster, waitFor, type TestCluster } from './test-support/cluster';

// Commands pipelined on one connection take effect in the order they were sent, also when
// the node they reach holds no copy of the key and asks its replicas.
let cluster: TestCluster;
let client: Redis;

beforeAll(async () => {
  cluster = await startCluster(4);
  const c = cluster;
  await waitFor(() => c.nodes.every((n) => n.ring?.members.length === 4));
  client = new Redis({ host: '127.0.0.1', port: (c.nodes[0] as KvNode).port, lazyConnect: true });
  await client.connect();
});

afterAll(async () => {
  client.disconnect();
  await cluster.close();
});

/** Keys node 0 holds no copy of: every read and write of them goes to other nodes. */
function elsewhere(prefix: string, count: number): string[] {
  const node = cluster.nodes[0] as KvNode;
  const keys: string[] = [];
  for (let i = 0; keys.length < count; i++) {
    const key = `${prefix}:${i}`;
    if (!node.ring?.preferenceList(key).includes(node.id)) keys.push(key);
  }
  return keys;
}

const results = async (pipeline: ReturnType<Redis['pipeline']>): Promise<unknown[]> =>
  ((await pipeline.exec()) ?? []).map(([err, value]) => err?.message ?? value);

describe('a pipeline through a node that holds no copy', () => {
  it('SET then SET NX: the NX sees the SET and fails; the first value stays', async () => {
    for (const key of elsewhere('nx', 20)) {
      expect(await results(client.pipeline().set(key, 'v1').set(key, 'v2', 'NX').get(key))).toEqual(
        ['OK', null, 'v1'],
      );
    }
  });

  it('SET then EXPIRE: the EXPIRE finds the key', async () => {
    for (const key of elsewhere('ex', 20)) {
      expect(await results(client.pipeline().set(key, 'v').expire(key, 100).ttl(key))).toEqual([
        'OK',
        1,
        100,
      ]);
    }
  });

  it('SET, EXPIRE, DEL: the key ends deleted', async () => {
    for (const key of elsewhere('del', 20)) {
      expect(await results(client.pipeline().set(key, 'v').expire(key, 100).del(key))).toEqual([
        'OK',
        1,
        1,
      ]);
      expect(await client.get(key)).toBeNull();
    }
  });

  it('SET, DEL, SET XX: the XX finds nothing to replace', async () => {
    for (const key of elsewhere('xx', 20)) {
      expect(
        await results(client.pipeline().set(key, 'v').del(key).set(key, 'w', 'XX').get(key)),
      ).toEqual(['OK', 1, null, null]);
    }
  });
});
