import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoordinatorUnreachableError } from '@kv/client';
import { openClient } from '../harness/clients';
import { Cluster } from '../harness/cluster';
import { coordinatorLog, nodeLog } from '../harness/log-lines';
import { MARGIN_MS } from '../harness/margin';
import { ringOf, send, text } from '../harness/resp';
import { runKvCommand } from '../harness/run-command';
import { sleep, timedFailure } from '../harness/wait';

// Nodes back off up to 5 s between attempts while the coordinator is down; a restarted
// coordinator gives restored members the failure timeout to heartbeat again, so it must be
// longer than that backoff.
const FAILURE_TIMEOUT_MS = 8000;
const KEYS = 30;

/** The coordinator's "marked as dead" lines. */
function deaths(cluster: Cluster): string[] {
  return cluster.coordinator.lines
    .map((l) => l.text)
    .filter((text) => coordinatorLog.anyDeath.test(text));
}

describe('coordinator killed', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'kv-e2e-coordinator-'));
  });
  afterEach(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('reads and writes go on with cached rings; restarted with --data-dir it has the same ring and loses nothing', async () => {
    const cluster = await Cluster.start({
      nodes: 3,
      failureTimeoutMs: FAILURE_TIMEOUT_MS,
      dataDir,
    });
    const client = openClient({ coordinator: cluster.coordinatorAddress, requestTimeoutMs: 2000 });
    for (let i = 0; i < KEYS; i++) await client.put(`before:${i}`, `b${i}`);
    const ringBefore = await ringOf(cluster.coordinatorPort);
    const nodeMarks = cluster.nodes.map((n) => n.process.mark);

    await cluster.coordinator.kill();

    // Clients and nodes keep the ring they have.
    for (let i = 0; i < KEYS; i++) {
      await client.put(`during:${i}`, `d${i}`);
      expect(await client.getString(`before:${i}`)).toBe(`b${i}`);
    }
    expect(await client.delete('before:0')).toBe(true);
    for (const node of cluster.nodes) {
      expect(text(await send(node.port, ['PUT', `direct:${node.port}`, 'x']))).toBe('OK');
      expect(text(await send(node.port, ['GET', 'during:1']))).toBe('d1');
    }
    await Promise.all(
      cluster.nodes.map((n, i) =>
        n.process.waitForLine(nodeLog.coordinatorLost, 5000, nodeMarks[i]),
      ),
    );
    // A client without a ring cannot start; it says why and what to check.
    const fresh = openClient({ coordinator: cluster.coordinatorAddress, connectTimeoutMs: 500 });
    const refused = await timedFailure(() => fresh.connect());
    expect(refused.error).toBeInstanceOf(CoordinatorUnreachableError);
    expect((refused.error as Error).message).toBe(
      `cannot reach coordinator at ${cluster.coordinatorAddress} (ECONNREFUSED): is it running?`,
    );
    const cli = await runKvCommand(cluster.coordinatorAddress, 'GET during:1');
    expect(cli.status.code).toBe(3);
    expect(cli.stderr).toContain(`cannot reach coordinator at ${cluster.coordinatorAddress}`);

    // Restarted: same port, same arguments, membership from its data directory.
    const from = cluster.coordinator.mark;
    cluster.coordinator.start();
    const loaded = await cluster.coordinator.waitForLine(coordinatorLog.loaded, 10_000, from);
    expect(loaded).toContain(`epoch ${ringBefore.epoch}, 3 member(s) on probation`);
    await cluster.waitForMembers(
      cluster.nodes.map((n) => n.id),
      FAILURE_TIMEOUT_MS + MARGIN_MS,
    );
    expect(await ringOf(cluster.coordinatorPort)).toEqual(ringBefore);
    await Promise.all(
      cluster.nodes.map((n, i) =>
        n.process.waitForLine(nodeLog.coordinatorBack, 1000, nodeMarks[i]),
      ),
    );

    // Nodes keep heartbeating: still all up, nobody declared dead, the ring unchanged.
    await sleep(2000);
    const rows = await cluster.members();
    expect(rows.map((r) => r.state)).toEqual(['up', 'up', 'up']);
    for (const row of rows) expect(row.heartbeatAgeMs).toBeLessThan(FAILURE_TIMEOUT_MS);
    expect(deaths(cluster)).toEqual([]);
    expect(await ringOf(cluster.coordinatorPort)).toEqual(ringBefore);

    // Nothing written before or during the outage is lost, nor the delete undone.
    const after = openClient({ coordinator: cluster.coordinatorAddress });
    expect(await after.getString('before:0')).toBeNull();
    for (let i = 1; i < KEYS; i++) expect(await after.getString(`before:${i}`)).toBe(`b${i}`);
    for (let i = 0; i < KEYS; i++) expect(await after.getString(`during:${i}`)).toBe(`d${i}`);
    for (const node of cluster.nodes)
      expect(await after.getString(`direct:${node.port}`)).toBe('x');
  });

  it('does not drop live nodes after an outage long enough for them to back off', async () => {
    // Legal settings a little tighter than the defaults: 2 s of silence is death. The nodes
    // back off while the coordinator is away, and must not be declared dead for it.
    const failureTimeoutMs = 2000;
    const cluster = await Cluster.start({ nodes: 3, failureTimeoutMs, dataDir });
    const ringBefore = await ringOf(cluster.coordinatorPort);
    await cluster.coordinator.kill();
    await sleep(8000);
    const from = cluster.coordinator.mark;
    cluster.coordinator.start();
    await cluster.coordinator.waitForLine(coordinatorLog.loaded, 10_000, from);
    await sleep(failureTimeoutMs + MARGIN_MS);
    expect(deaths(cluster)).toEqual([]);
    expect(await ringOf(cluster.coordinatorPort)).toEqual(ringBefore);
  });
});
