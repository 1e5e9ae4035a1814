import { AuthenticationError, ReplyError, UserTable, parseUsers } from '@kv/protocol';
import type { KvNode } from '@kv/node';
import { createClient, type KvClient } from './client';
import { LocalCluster } from './test-support/cluster';

const SECRET = Buffer.from('the client tests cluster secret!');
const USERS = new UserTable(
  parseUsers(['app read-write >app-pw', 'viewer read-only >viewer-pw'].join('\n')),
);

let cluster: LocalCluster | undefined;
const clients: KvClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await cluster?.close();
  cluster = undefined;
});

function client(options: Parameters<typeof createClient>[0]): KvClient {
  const c = createClient({
    coordinator: (cluster as LocalCluster).address,
    retries: 0,
    ...options,
  });
  clients.push(c);
  return c;
}

describe('client authentication', () => {
  it('sends AUTH on every connection when given a user and password', async () => {
    cluster = await LocalCluster.start(3, 10_000, { clusterSecret: SECRET, users: USERS });
    const app = client({ user: 'app', password: 'app-pw' });
    for (let i = 0; i < 20; i++) await app.put(`k${i}`, `v${i}`);
    for (let i = 0; i < 20; i++) expect(await app.getString(`k${i}`)).toBe(`v${i}`);
    const viewer = client({ user: 'viewer', password: 'viewer-pw' });
    expect(await viewer.getString('k1')).toBe('v1');
    await expect(viewer.put('k1', 'changed')).rejects.toThrow(
      /^NOPERM User viewer has no permissions to run the 'put' command/,
    );
    expect(await app.getString('k1')).toBe('v1');
  });

  it('fails with AuthenticationError for a wrong password, and NOAUTH without one', async () => {
    cluster = await LocalCluster.start(1, 10_000, { clusterSecret: SECRET, users: USERS });
    const wrong = client({ user: 'app', password: 'nope' });
    await expect(wrong.get('k')).rejects.toThrow(AuthenticationError);
    await expect(wrong.get('k')).rejects.toThrow(/failed: WRONGPASS invalid username-password/);
    const none = client({});
    await expect(none.get('k')).rejects.toThrow(/^NOAUTH Authentication required\./);
  });

  it('decommissions with the cluster secret, and is refused without it', async () => {
    cluster = await LocalCluster.start(2, 10_000, { clusterSecret: SECRET });
    const node = (cluster.nodes[1] as KvNode).id;
    const anonymous = client({ refreshIntervalMs: 0 });
    const refused = await anonymous.decommission(node).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(ReplyError);
    expect((refused as ReplyError).code).toBe('NOAUTH');
    const operator = client({ refreshIntervalMs: 0, clusterSecret: SECRET });
    expect(String(await operator.decommission(node))).toMatch(/^OK leaving/);
    await (cluster.nodes[1] as KvNode).closed;
  });
});
