import { parseExposition, sampleValue } from '@kv/protocol';
import { RING_SLICES, type ClusterView } from './cluster-view';
import { client, keepAlive, start } from './test-support/coordinator-harness';
import { waitFor } from './test-support/wait-for';

async function get(port: number, path: string): Promise<Response> {
  return fetch(`http://127.0.0.1:${port}${path}`);
}

/** A coordinator with a metrics port, quick failure detection and nodes registered on `ports`. */
async function withMembers(ports: number[]): Promise<{
  coordinator: Awaited<ReturnType<typeof start>>;
  port: number;
  connection: Awaited<ReturnType<typeof client>>;
}> {
  const coordinator = await start({
    metricsPort: 0,
    heartbeatIntervalMs: 20,
    failureTimeoutMs: 300,
  });
  const connection = await client(coordinator);
  for (const p of ports) await connection.send(['REGISTER_NODE', '127.0.0.1', p]);
  return { coordinator, port: coordinator.metricsPort as number, connection };
}

describe('coordinator HTTP: /metrics and the dashboard', () => {
  it('serves nothing over HTTP unless a metrics port is set', async () => {
    const coordinator = await start();
    expect(coordinator.metricsPort).toBeUndefined();
  });

  it('exports membership by state, heartbeat ages and the epoch; a silent member turns dead', async () => {
    const { coordinator, port, connection } = await withMembers([7101, 7102, 7103]);
    keepAlive(connection, [7101, 7102]);
    const scrape = async (): Promise<ReturnType<typeof parseExposition>> =>
      parseExposition(await (await get(port, '/metrics')).text());

    let families = await scrape();
    expect(sampleValue(families, 'kv_coordinator_ring_epoch')).toBe(coordinator.epoch);
    expect(sampleValue(families, 'kv_coordinator_members', { state: 'dead' })).toBe(0);
    expect(families.get('kv_coordinator_heartbeat_age_seconds')?.samples).toHaveLength(3);
    expect(families.has('nodejs_eventloop_lag_seconds')).toBe(true);
    expect(families.has('process_resident_memory_bytes')).toBe(true);

    await waitFor(
      async () => sampleValue(await scrape(), 'kv_coordinator_members', { state: 'dead' }) === 1,
      'the silent member to be counted dead',
    );
    families = await scrape();
    const up = sampleValue(families, 'kv_coordinator_members', { state: 'up' }) ?? 0;
    const joining = sampleValue(families, 'kv_coordinator_members', { state: 'joining' }) ?? 0;
    expect(up + joining).toBe(2);
    expect(
      sampleValue(families, 'kv_coordinator_heartbeat_age_seconds', {
        member: '127.0.0.1:7103',
        state: 'dead',
      }),
    ).toBeGreaterThan(0.3);
    expect(sampleValue(families, 'kv_coordinator_commands_total')).toBeGreaterThan(3);
  });

  it('serves a self-contained page that fetches only from its own origin', async () => {
    const coordinator = await start({ metricsPort: 0 });
    const page = await get(coordinator.metricsPort as number, '/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("connect-src 'self'");
    const html = await page.text();
    expect(html).toContain('<svg id="ring"');
    // Nothing loaded from elsewhere: it must work offline.
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(html).not.toContain('innerHTML');
  });

  it('describes the cluster: ring slices, shares, unreachable nodes, dead ones', async () => {
    const { coordinator, port, connection } = await withMembers([7201, 7202]);
    keepAlive(connection, [7201]);
    await waitFor(async () => {
      const view = (await (await get(port, '/api/cluster')).json()) as ClusterView;
      return view.members.some((m) => m.state === 'dead');
    }, 'a member to die');
    const view = (await (await get(port, '/api/cluster')).json()) as ClusterView;
    expect(view.epoch).toBe(coordinator.epoch);
    expect(view.failureTimeoutMs).toBe(300);
    expect(view.ringMembers).toEqual(['127.0.0.1:7201']);
    expect(view.slices).toHaveLength(RING_SLICES);
    expect(new Set(view.slices)).toEqual(new Set([0]));
    const [alive, dead] = view.members;
    expect(alive).toMatchObject({ id: '127.0.0.1:7201', primaryShare: 1 });
    // Nothing listens on the registered port: the node shows as unreachable, not as failed.
    expect(alive?.stats).toMatchObject({ reachable: false, keys: null });
    expect(dead).toMatchObject({
      id: '127.0.0.1:7202',
      state: 'dead',
      stats: null,
      rebalance: null,
    });
  });

  it('looks up the replicas of a key, and refuses a missing or oversized key', async () => {
    const coordinator = await start({ metricsPort: 0 });
    const port = coordinator.metricsPort as number;
    const connection = await client(coordinator);
    for (const p of [7301, 7302, 7303, 7304])
      await connection.send(['REGISTER_NODE', '127.0.0.1', p]);
    const answer = (await (await get(port, '/api/key?key=user%3A1')).json()) as {
      replicas: string[];
      token: string;
    };
    expect(answer.replicas).toEqual(coordinator.ring.preferenceList('user:1'));
    expect(answer.token).toMatch(/^[0-9a-f]{12}$/);
    const missing = await get(port, '/api/key');
    expect(missing.status).toBe(400);
    expect(await missing.json()).toEqual({ error: 'give the key to look up: /api/key?key=user:1' });
    expect((await get(port, `/api/key?key=${'k'.repeat(5000)}`)).status).toBe(400);
  });

  it('fails to start with a clear error when the metrics port is taken', async () => {
    const first = await start({ metricsPort: 0 });
    await expect(start({ metricsPort: first.metricsPort })).rejects.toThrow(
      `cannot listen on 127.0.0.1:${first.metricsPort} (EADDRINUSE)`,
    );
  });
});
