import { startCoordinator, type Coordinator } from '@kv/coordinator';
import { RespConnection } from '@kv/protocol';
import { CoordinatorLink } from './coordinator-link';
import { createNodeLogger } from './logger';
import { waitFor } from './test-support/cluster';

describe('CoordinatorLink: losing the coordinator', () => {
  let coordinator: Coordinator | undefined;
  let link: CoordinatorLink | undefined;
  afterEach(async () => {
    await link?.stop(false);
    await coordinator?.close();
  });

  const start = (port: number): Promise<Coordinator> =>
    startCoordinator({ host: '127.0.0.1', port, heartbeatIntervalMs: 50, silent: true });

  it('says when it lost the coordinator, and that it is back only once the current ring is here', async () => {
    coordinator = await start(0);
    const { port } = coordinator;
    const events: string[] = [];
    link = new CoordinatorLink({
      coordinators: [{ host: '127.0.0.1', port }],
      host: '127.0.0.1',
      port: 1,
      heartbeatIntervalMs: 50,
      maxBackoffMs: 50,
      logger: createNodeLogger({ label: 'test', silent: true }),
      onRing: (_read, _target, epoch) => events.push(`ring ${epoch}`),
      onLost: () => events.push('lost'),
      // With the epoch of the ring it holds, and the coordinator's own at that moment.
      onReconnect: () =>
        events.push(`reconnect at ${link?.ringEpoch} of ${coordinator?.epoch ?? 'none'}`),
    });
    await link.start();
    await waitFor(() => events.includes('ring 1'));
    // Heartbeats that succeed tell nothing more.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(events).toEqual(['ring 1']);

    await coordinator.close();
    await waitFor(() => events.includes('lost'));
    expect(link.connected).toBe(false);
    // Told once however many heartbeats fail.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(events).toEqual(['ring 1', 'lost']);

    // A coordinator that knows the node no more (restarted without its data, another node
    // registered too): the node registers again, and is back once it holds the ring that
    // coordinator has then.
    coordinator = await start(port);
    const other = await RespConnection.connect({ port });
    try {
      await other.send(['REGISTER_NODE', '127.0.0.1', 2]);
    } finally {
      other.destroy();
    }
    await waitFor(() => events.some((e) => e.startsWith('reconnect')));
    const reconnect = events.find((e) => e.startsWith('reconnect')) as string;
    const [held, current] = (/reconnect at (\d+) of (\d+)/.exec(reconnect) ?? []).slice(1);
    expect(held).toBe(current);
    expect(events.filter((e) => e === 'lost')).toHaveLength(1);
    await waitFor(() => events.includes('ring 2'));
    expect(link.connected).toBe(true);
  });
});
