import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ReplyError, parseExposition, sampleValue, type MetricFamily } from '@kv/protocol';
import { startNode, type KvNode } from './node';
import { listenNode } from './node-listeners';
import { startCluster, waitFor, type TestCluster } from './test-support/cluster';

/** Every metric name docs/metrics.md lists in its tables. */
function documentedMetrics(): string[] {
  const doc = readFileSync(join(__dirname, '../../../docs/metrics.md'), 'utf8');
  return [...doc.matchAll(/^\| `([a-z_:]+)` +\|/gm)].map((m) => m[1] as string);
}

async function scrape(port: number | undefined): Promise<Map<string, MetricFamily>> {
  if (port === undefined) throw new Error('metrics are not served');
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  return parseExposition(await res.text());
}

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

describe('metrics over HTTP', () => {
  it('are not served unless a metrics port is given', async () => {
    cluster = await startCluster(1);
    expect(cluster.nodes[0]?.metricsPort).toBeUndefined();
  });

  it('refuses a bad metrics port, and fails to start when it is taken', async () => {
    cluster = await startCluster(1, { metricsPort: 0 });
    const taken = cluster.nodes[0]?.metricsPort;
    await expect(startNode({ port: 0, metricsPort: -1, silent: true })).rejects.toThrow(
      'metrics port must be from 0 to 65535, got -1',
    );
    await expect(startNode({ port: 0, metricsPort: taken, silent: true })).rejects.toMatchObject({
      code: 'EADDRINUSE',
    });
  });

  it('listen for metrics before commands, so nothing is awaited between the command port opening and the node existing', async () => {
    // The node's parts before the node: the metrics port answers (with no series yet),
    // while the command port is open and nothing has been built to serve it.
    const parts = await listenNode(
      { port: 0, host: '127.0.0.1', metricsPort: 0, silent: true },
      {
        handle: () => {
          throw new Error('no node yet');
        },
        onClose: () => undefined,
        admitsAtBound: () => true,
        metrics: () => undefined,
        logger: () => undefined,
      },
    );
    try {
      const res = await fetch(`http://127.0.0.1:${parts.metricsEndpoint?.port}/metrics`);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('');
      expect(parts.bound.port).toBeGreaterThan(0);
    } finally {
      await parts.metricsEndpoint?.close();
      await parts.server.close();
      await parts.storage.close();
    }
  });

  it('close the metrics port again when the command port cannot be had', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const taken = (holder.address() as AddressInfo).port;
    const spare = createServer();
    await new Promise<void>((resolve) => spare.listen(0, '127.0.0.1', resolve));
    const metricsPort = (spare.address() as AddressInfo).port;
    await new Promise<void>((resolve) => spare.close(() => resolve()));
    try {
      await expect(
        startNode({ port: taken, host: '127.0.0.1', metricsPort, silent: true }),
      ).rejects.toMatchObject({ code: 'EADDRINUSE' });
      // The metrics port it had opened is free again.
      const again = createServer();
      await new Promise<void>((resolve, reject) => {
        again.once('error', reject);
        again.listen(metricsPort, '127.0.0.1', resolve);
      });
      await new Promise<void>((resolve) => again.close(() => resolve()));
    } finally {
      await new Promise<void>((resolve) => holder.close(() => resolve()));
    }
  });

  it('exposes every metric docs/metrics.md lists after a representative workload, and only those', async () => {
    cluster = await startCluster(3, { metricsPort: 0 }, { metricsPort: 0 });
    const c = cluster;
    const [n0, n1] = c.nodes as [KvNode, KvNode, KvNode];
    const puts = 20;
    for (let i = 0; i < puts; i++) await c.send(0, ['PUT', `k${i}`, `v${i}`, 'W', '3']);
    for (let i = 0; i < 10; i++) await c.send(0, ['GET', `k${i}`]);
    // A stale replica, repaired by a read of all three.
    const key = Buffer.from('k0');
    const current = n1.store.read(key);
    await n1.store.remove(key);
    await n1.store.apply(key, {
      value: Buffer.from('old'),
      ts: (current?.ts ?? 2) - 1,
      origin: 'x',
      expiresAt: 0,
    });
    expect(String(await c.send(0, ['GET', 'k0', 'R', '3']))).toBe('v0');
    // Requests refused before any command runs.
    await expect(c.send(0, ['NOPE'])).rejects.toBeInstanceOf(ReplyError);
    await expect(c.send(0, ['GET'])).rejects.toBeInstanceOf(ReplyError);
    // A fourth node joins: data moves to it.
    const joined = await c.addNode();
    await waitFor(() => c.nodes.every((n) => n.ring?.size === 4), 20_000);
    await waitFor(() => joined.store.size > 0, 20_000);
    // A replica goes away: writes are kept as hints for it, and W=4 fails.
    const gone = c.nodes[2] as KvNode;
    await gone.close({ leave: false });
    let hinted = 0;
    for (let i = 0; i < 10; i++) {
      const reply = await c.send(0, ['PUT', `h${i}`, 'v', 'W', '1']).catch((e: unknown) => e);
      if (!(reply instanceof ReplyError)) hinted++;
    }
    expect(hinted).toBe(10);
    // A key the stopped node is a replica of (placement depends on the ports picked).
    const its = Array.from({ length: 200 }, (_, i) => `all${i}`).find((k) =>
      n0.ring?.preferenceList(k).includes(gone.id),
    ) as string;
    await expect(c.send(0, ['PUT', its, 'v', 'W', '3'])).rejects.toThrow('UNAVAILABLE');

    const scrapes = await Promise.all(
      [n0.metricsPort, n1.metricsPort, joined.metricsPort, c.coordinatorMetricsPort].map(scrape),
    );
    const exported = new Set<string>();
    for (const families of scrapes)
      for (const family of families.values())
        if (family.samples.length > 0) exported.add(family.name);
    const documented = documentedMetrics();
    expect(documented.length).toBeGreaterThanOrEqual(50);
    expect(documented.filter((name) => !exported.has(name))).toEqual([]);
    const undocumented = [...exported].filter(
      (n) => n.startsWith('kv_') && !documented.includes(n),
    );
    expect(undocumented).toEqual([]);

    const [m0, m1, m3, coordinator] = scrapes as [
      Map<string, MetricFamily>,
      Map<string, MetricFamily>,
      Map<string, MetricFamily>,
      Map<string, MetricFamily>,
    ];
    // Node 0 answered every request of this test: the counters say exactly what was sent.
    expect(sampleValue(m0, 'kv_commands_total', { command: 'PUT', result: 'ok' })).toBe(puts + 10);
    expect(sampleValue(m0, 'kv_commands_total', { command: 'PUT', result: 'error' })).toBe(1);
    expect(sampleValue(m0, 'kv_commands_total', { command: 'GET', result: 'ok' })).toBe(11);
    expect(sampleValue(m0, 'kv_commands_rejected_total')).toBe(2);
    expect(sampleValue(m0, 'kv_command_duration_seconds_count', { command: 'PUT' })).toBe(
      puts + 11,
    );
    expect(sampleValue(m0, 'kv_quorum_writes_total')).toBe(puts + 11);
    expect(sampleValue(m0, 'kv_quorum_writes_unavailable_total')).toBe(1);
    expect(sampleValue(m0, 'kv_read_repairs_total')).toBeGreaterThanOrEqual(1);
    expect(sampleValue(m0, 'kv_hints_pending')).toBeGreaterThan(0);
    expect(sampleValue(m0, 'kv_replica_request_duration_seconds_count')).toBeGreaterThan(puts);
    expect(sampleValue(m0, 'kv_ring_epoch')).toBe(
      sampleValue(coordinator, 'kv_coordinator_ring_epoch'),
    );
    expect(sampleValue(m1, 'kv_keys')).toBe(n1.store.size - n1.store.tombstones);
    expect(sampleValue(m3, 'kv_sync_rounds_total')).toBeGreaterThan(0);
    expect(sampleValue(m3, 'kv_sync_received_records_total')).toBeGreaterThan(0);
    expect(sampleValue(m3, 'kv_sync_received_bytes_total')).toBeGreaterThan(0);
    expect(sampleValue(coordinator, 'kv_coordinator_members', { state: 'up' })).toBe(4);
  });
});
