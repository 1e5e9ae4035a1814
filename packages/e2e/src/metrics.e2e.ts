import { Cluster } from './harness/cluster';
import { MARGIN_MS } from './harness/margin';
import { send } from './harness/resp';
import { Scrape } from './harness/scrape';
import { waitFor } from './harness/wait';

const FAILURE_TIMEOUT_MS = 2000;
const PUTS = 150;
const GETS = 80;

describe('metrics of a running cluster', () => {
  it('are served by every process, move with the workload, and show a killed node dead', async () => {
    const cluster = await Cluster.start({ metrics: true, failureTimeoutMs: FAILURE_TIMEOUT_MS });
    const [n0, n1, n2] = cluster.nodes as [
      (typeof cluster.nodes)[0],
      (typeof cluster.nodes)[0],
      (typeof cluster.nodes)[0],
    ];
    const nodeScrapes = (): Promise<Scrape[]> =>
      Promise.all(cluster.nodes.map((n) => Scrape.of(n.metrics)));
    const before = await nodeScrapes();
    const coordinatorBefore = await Scrape.of(cluster.coordinatorMetrics);
    expect(coordinatorBefore.value('kv_coordinator_members', { state: 'up' })).toBe(3);
    expect(coordinatorBefore.value('kv_coordinator_members', { state: 'dead' })).toBe(0);
    for (const scrape of before) {
      expect(scrape.value('kv_ring_members')).toBe(3);
      expect(scrape.value('kv_ring_epoch')).toBe(
        coordinatorBefore.value('kv_coordinator_ring_epoch'),
      );
      expect(scrape.families.has('nodejs_eventloop_lag_seconds')).toBe(true);
    }

    for (let i = 0; i < PUTS; i++) await send(n0.endpoint, ['PUT', `m:${i}`, `value ${i}`]);
    for (let i = 0; i < GETS; i++) await send(n1.endpoint, ['GET', `m:${i}`]);

    const after = await nodeScrapes();
    const [b0, b1, b2] = before as [Scrape, Scrape, Scrape];
    const [a0, a1, a2] = after as [Scrape, Scrape, Scrape];
    const moved = (
      a: Scrape,
      b: Scrape,
      name: string,
      labels: Record<string, string> = {},
    ): number => a.value(name, labels) - b.value(name, labels);
    // Each node counts exactly the client requests it was sent.
    expect(moved(a0, b0, 'kv_commands_total', { command: 'PUT', result: 'ok' })).toBe(PUTS);
    expect(moved(a1, b1, 'kv_commands_total', { command: 'GET', result: 'ok' })).toBe(GETS);
    expect(moved(a2, b2, 'kv_commands_total', { command: 'PUT', result: 'ok' })).toBe(0);
    expect(moved(a0, b0, 'kv_command_duration_seconds_count', { command: 'PUT' })).toBe(PUTS);
    expect(moved(a0, b0, 'kv_quorum_writes_total')).toBe(PUTS);
    expect(moved(a1, b1, 'kv_quorum_reads_total')).toBe(GETS);
    // With three replicas of every key, the other two nodes replicate every write.
    for (const [a, b] of [
      [a1, b1],
      [a2, b2],
    ] as const)
      expect(
        moved(a, b, 'kv_commands_total', { command: 'REPLICATE', result: 'ok' }),
      ).toBeGreaterThanOrEqual(PUTS);
    expect(moved(a0, b0, 'kv_replica_request_duration_seconds_count')).toBeGreaterThanOrEqual(
      2 * PUTS,
    );
    for (const a of after) expect(a.value('kv_keys')).toBe(PUTS);
    expect(a0.value('kv_data_bytes')).toBeGreaterThan(0);

    await n2.process.kill();
    const dead = await waitFor(
      () => `the coordinator's metrics to count ${n2.id} dead\n${cluster.logs()}`,
      async () => {
        const scrape = await Scrape.of(cluster.coordinatorMetrics);
        return scrape.value('kv_coordinator_members', { state: 'dead' }) === 1 ? scrape : undefined;
      },
      { timeoutMs: FAILURE_TIMEOUT_MS + MARGIN_MS, intervalMs: 100 },
    );
    expect(dead.value('kv_coordinator_members', { state: 'up' })).toBe(2);
    expect(
      dead.value('kv_coordinator_heartbeat_age_seconds', { member: n2.id, state: 'dead' }),
    ).toBeGreaterThanOrEqual(FAILURE_TIMEOUT_MS / 1000);
    expect(dead.value('kv_coordinator_ring_epoch')).toBeGreaterThan(
      coordinatorBefore.value('kv_coordinator_ring_epoch'),
    );
  });
});
