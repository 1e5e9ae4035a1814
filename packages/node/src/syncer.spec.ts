import { ConnectionPool, createRespServer, type RespServer } from '@kv/protocol';
import { HybridLogicalClock } from './hlc';
import { MemoryEngine } from './memory-engine';
import { NodeMetrics } from './metrics';
import { PeerClient } from './peer-client';
import { Store } from './store';
import { Syncer } from './syncer';
import { Throttle } from './throttle';

describe('Syncer.collectHints', () => {
  let server: RespServer | undefined;
  const pool = new ConnectionPool({ requestTimeoutMs: 500, connectTimeoutMs: 500 });
  afterEach(async () => {
    await server?.close(10);
  });
  afterAll(() => pool.close());

  /** A peer answering SYNC_HINTS with `left` in turn; the requests it got. */
  async function peerLeaving(left: (asked: number) => number): Promise<{
    syncer: Syncer;
    peer: string;
    requests: string[];
  }> {
    const requests: string[] = [];
    server = createRespServer({
      handler: (args) => {
        requests.push(args.map(String).join(' '));
        return left(requests.length);
      },
    });
    const { port } = await server.listen(0, '127.0.0.1');
    const syncer = new Syncer({
      selfId: 'me:1',
      store: new Store(new MemoryEngine(), new HybridLogicalClock()),
      peers: new PeerClient(pool),
      throttle: new Throttle(0),
      metrics: new NodeMetrics(),
    });
    return { syncer, peer: `127.0.0.1:${port}`, requests };
  }

  it('asks the peer for this node’s hints until it keeps none', async () => {
    const { syncer, peer, requests } = await peerLeaving((asked) => Math.max(0, 3 - asked));
    await syncer.collectHints(peer);
    expect(requests).toEqual(['SYNC_HINTS me:1', 'SYNC_HINTS me:1', 'SYNC_HINTS me:1']);
  });

  it('fails when the peer still keeps hints after a few requests, so the round is not complete', async () => {
    const { syncer, peer, requests } = await peerLeaving(() => 5000);
    await expect(syncer.collectHints(peer)).rejects.toThrow(
      `${peer} still keeps 5000 write(s) for this node`,
    );
    expect(requests).toHaveLength(8);
  });
});
