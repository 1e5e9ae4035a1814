import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binPath } from './harness/bins';
import { openClient } from './harness/clients';
import { freePortRange, HOST } from './harness/free-port';
import { escapeRegExp } from './harness/log-lines';
import { ManagedProcess } from './harness/managed-process';
import { runKv } from './harness/run-command';

const KEYS = 20;

interface StatusRow {
  readonly address: string;
  readonly state: string;
  readonly reachable: boolean;
  readonly keys: number | null;
}

/** `kv status --json`: the row of each node. */
async function statusRows(coordinator: string): Promise<StatusRow[]> {
  const status = await runKv(['--coordinator', coordinator, '--json', 'status', '--sample', '0']);
  expect({ code: status.status.code, stderr: status.stderr }).toEqual({ code: 0, stderr: '' });
  return (JSON.parse(status.stdout) as { nodes: StatusRow[] }).nodes;
}

describe('kv cluster when a node dies', () => {
  let root: string;
  let cluster: ManagedProcess | undefined;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'kv-e2e-cluster-death-'));
  });
  afterEach(async () => {
    if (cluster?.running) {
      cluster.signal('SIGTERM');
      await cluster.waitForExit(30_000);
    }
    cluster = undefined;
    rmSync(root, { recursive: true, force: true });
  });

  it('reports the death, keeps serving, shows it dead, and restarts it as itself on SIGUSR2', async () => {
    const base = await freePortRange(4);
    const coordinator = `${HOST}:${base}`;
    const running = ManagedProcess.start({
      name: 'kv cluster',
      command: process.execPath,
      args: [binPath('@kv/cli'), 'cluster', '--base-port', String(base), '--data-dir', root],
    });
    cluster = running;
    await running.waitForLine(/^\[Cluster\] Ready: /, 60_000);
    const client = openClient({ coordinator });
    for (let i = 0; i < KEYS; i++) await client.put(`before:${i}`, `b${i}`);

    const victim = `${HOST}:${base + 2}`;
    const started = await running.waitForLine(
      new RegExp(`^\\[Cluster\\] Started node ${escapeRegExp(victim)} \\(pid (\\d+)\\)$`),
      1000,
    );
    const pid = Number(/\(pid (\d+)\)$/.exec(started)?.[1]);
    process.kill(pid, 'SIGKILL');
    await running.waitForLine(
      new RegExp(
        `^\\[Cluster\\] node ${escapeRegExp(victim)} exited unexpectedly \\(signal SIGKILL\\); ` +
          'the other processes keep running$',
      ),
      10_000,
    );
    // Its own line, which may reach the pipe a moment after the one above.
    await running.waitForLine(
      new RegExp(`^\\[Cluster\\] Restart it with: kill -USR2 ${running.pid as number}$`),
      10_000,
    );

    // The others keep serving: every key reads, and writes reach their two live replicas.
    for (let i = 0; i < KEYS; i++) {
      expect(await client.getString(`before:${i}`)).toBe(`b${i}`);
      await client.put(`during:${i}`, `d${i}`);
    }
    // The coordinator declares it dead after its failure timeout; status shows it dead.
    await running.waitForLine(
      new RegExp(`^\\[Coordinator\\] Node ${escapeRegExp(victim)} marked as dead and removed$`),
      15_000,
    );
    const whileDead = await statusRows(coordinator);
    expect(whileDead.find((r) => r.address === victim)).toMatchObject({
      state: 'dead',
      reachable: false,
    });
    expect(whileDead.filter((r) => r.state === 'up')).toHaveLength(2);
    expect(running.running).toBe(true);

    // Restarted on its port and data directory, it comes back as itself, with its records.
    const mark = running.mark;
    running.signal('SIGUSR2');
    await running.waitForLine(
      new RegExp(`^\\[Cluster\\] Restarted node ${escapeRegExp(victim)} \\(pid \\d+\\)$`),
      10_000,
      mark,
    );
    await running.waitForLine(
      new RegExp(`^\\[Cluster\\] node ${escapeRegExp(victim)} serves again$`),
      60_000,
      mark,
    );
    const back = (await statusRows(coordinator)).find((r) => r.address === victim);
    expect(back).toMatchObject({ state: 'up', reachable: true });
    expect(back?.keys).toBeGreaterThanOrEqual(KEYS);
    for (let i = 0; i < KEYS; i++) {
      expect(await client.getString(`before:${i}`)).toBe(`b${i}`);
      expect(await client.getString(`during:${i}`)).toBe(`d${i}`);
    }

    // Only a stop signal stops it all.
    running.signal('SIGTERM');
    expect(await running.waitForExit(30_000)).toEqual({ code: 0, signal: null });
    await running.waitForLine(/^\[Cluster\] Stopped$/, 1000);
  });
});
