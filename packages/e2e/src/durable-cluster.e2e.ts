import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LMDB_SUBDIR, LmdbEngine } from '@kv/node';
import { binPath } from './harness/bins';
import { openClient } from './harness/clients';
import { Cluster } from './harness/cluster';
import { freePortRange, HOST } from './harness/free-port';
import { ManagedProcess } from './harness/managed-process';
import { fetchLocalAll, infoNumber } from './harness/resp';
import { runKv, runKvCommand } from './harness/run-command';
import { waitFor } from './harness/wait';

describe('kv cluster --data-dir', () => {
  let root: string;
  const clusters: ManagedProcess[] = [];
  const launch = (name: string, args: string[]): ManagedProcess => {
    const cluster = ManagedProcess.start({ name, command: process.execPath, args });
    clusters.push(cluster);
    return cluster;
  };
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'kv-e2e-cluster-data-'));
  });
  afterEach(async () => {
    // `kv cluster` stops its children itself, on SIGTERM: a failed test must not leave them.
    for (const cluster of clusters.splice(0)) {
      if (!cluster.running) continue;
      cluster.signal('SIGTERM');
      await cluster.waitForExit(30_000);
    }
    rmSync(root, { recursive: true, force: true });
  });

  it('PUT, stop the cluster, start it again on the same directory: GET returns the value, a DELETE stays deleted', async () => {
    const base = await freePortRange(4);
    const coordinator = `${HOST}:${base}`;
    const dataDir = join(root, 'data');
    const start = (): ManagedProcess =>
      launch('kv cluster --data-dir', [
        binPath('@kv/cli'),
        'cluster',
        '--base-port',
        String(base),
        '--data-dir',
        dataDir,
      ]);
    const ready = new RegExp(
      `^\\[Cluster\\] Ready: coordinator ${coordinator.replace(/\./g, '\\.')}\\b`,
    );

    const first = start();
    await first.waitForLine(ready, 60_000);
    expect((await runKvCommand(coordinator, 'PUT user:1 Alice')).status.code).toBe(0);
    expect((await runKvCommand(coordinator, 'PUT user:2 Bob')).status.code).toBe(0);
    expect((await runKvCommand(coordinator, 'DELETE user:2')).status.code).toBe(0);
    // A backup of one node while the cluster serves: itself a data directory.
    const backupDir = join(root, 'backup');
    const node = `${HOST}:${base + 1}`;
    const backup = await runKv(['--coordinator', coordinator, 'backup', '--node', node, backupDir]);
    expect(backup.stdout).toBe(
      `[Client] BACKUP ${node} ${backupDir}: OK backed up to ${backupDir}`,
    );
    const copy = LmdbEngine.open({ path: join(backupDir, LMDB_SUBDIR) });
    try {
      expect(copy.get(Buffer.from('user:1'))?.value?.toString()).toBe('Alice');
      expect(copy.get(Buffer.from('user:2'))?.value).toBeNull();
    } finally {
      await copy.close();
    }
    first.signal('SIGTERM');
    expect(await first.waitForExit(30_000)).toMatchObject({ code: 0 });
    for (const dir of ['coordinator', ...[1, 2, 3].map((i) => `node-${base + i}`)])
      expect(existsSync(join(dataDir, dir))).toBe(true);

    const second = start();
    await second.waitForLine(ready, 60_000);
    const get = await runKvCommand(coordinator, 'GET user:1');
    expect({ code: get.status.code, transcript: get.transcript }).toEqual({
      code: 0,
      transcript: expect.stringMatching(/\[Client\] GET user:1 = Alice$/m) as unknown,
    });
    const deleted = await runKvCommand(coordinator, 'GET user:2');
    expect(deleted.status.code).toBe(1);
    second.signal('SIGTERM');
    expect(await second.waitForExit(30_000)).toMatchObject({ code: 0 });
  });

  it('refuses a second cluster on the same directory, saying which process holds it', async () => {
    const base = await freePortRange(4);
    const dataDir = join(root, 'data');
    const args = (port: number): string[] => [
      binPath('@kv/cli'),
      'cluster',
      '--base-port',
      String(port),
      '--data-dir',
      dataDir,
    ];
    const first = launch('first', args(base));
    await first.waitForLine(/^\[Cluster\] Ready: /, 60_000);
    // Chosen once the first cluster listens, so neither range can take the other's ports
    // (each cluster also listens 80 ports above its base).
    const other = await freePortRange(4);
    const second = launch('second', args(other));
    const exit = await second.waitForExit(30_000);
    expect(exit.code).not.toBe(0);
    expect(second.output()).toMatch(
      new RegExp(
        `data directory ${join(dataDir, 'coordinator').replace(/\./g, '\\.')} is in use by process \\d+`,
      ),
    );
    // The first cluster goes on serving.
    expect((await runKvCommand(`${HOST}:${base}`, 'PUT k v')).status.code).toBe(0);
    first.signal('SIGTERM');
    expect(await first.waitForExit(30_000)).toMatchObject({ code: 0 });
  });
});

describe('kv backup of a node under writes', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'kv-e2e-backup-'));
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('restored into a fresh directory, the node starts with the data and syncs only what came after', async () => {
    const BEFORE = 1000;
    const AFTER = 20;
    const cluster = await Cluster.start({
      nodes: 3,
      nodeDataRoot: join(root, 'nodes'),
      failureTimeoutMs: 10_000,
      // No hints: what the restored node lacks can only come back through the sync round.
      nodeArgs: ['--max-hints', '0'],
    });
    const client = openClient({ coordinator: cluster.coordinatorAddress });
    const before = Array.from({ length: BEFORE }, (_, i) => `before:${i}`);
    for (let i = 0; i < BEFORE; i += 50)
      await Promise.all(
        before.slice(i, i + 50).map((k) => client.put(k, `v-${k}`, { writeQuorum: 3 })),
      );

    // Writes go on while the backup is taken.
    const writing = { stop: false, acknowledged: [] as string[] };
    const writer = (async () => {
      for (let i = 0; !writing.stop; i++) {
        const key = `during:${i}`;
        await client.put(key, `v-${key}`);
        writing.acknowledged.push(key);
        // Paced, so the writes after the backup stay few beside those before it.
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    await waitFor('writes under way', () => (writing.acknowledged.length > 20 ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 10,
    });
    const victim = cluster.node(2);
    const backupDir = join(root, 'backup');
    const backup = await runKv([
      '--coordinator',
      cluster.coordinatorAddress,
      'backup',
      '--node',
      victim.id,
      backupDir,
    ]);
    expect({ code: backup.status.code, stdout: backup.stdout }).toEqual({
      code: 0,
      stdout: `[Client] BACKUP ${victim.id} ${backupDir}: OK backed up to ${backupDir}`,
    });
    const duringBackup = writing.acknowledged.length;
    writing.stop = true;
    await writer;
    expect(writing.acknowledged.length).toBeGreaterThan(20);

    // The node's disk is lost: its directory is replaced by a copy of the backup.
    await victim.process.kill();
    const dir = join(root, 'nodes', `node-${victim.port}`);
    rmSync(dir, { recursive: true, force: true });
    cpSync(backupDir, dir, { recursive: true });
    const after = Array.from({ length: AFTER }, (_, i) => `after:${i}`);
    for (const k of after) await client.put(k, `v-${k}`);

    const restored = cluster.restartNode(victim.id);
    await cluster.waitForMembers(
      cluster.nodes.map((n) => n.id),
      30_000,
    );
    // Every key it is a replica of (all of them, RF 3 on 3 nodes) is in its own copy.
    const expected = [...before, ...writing.acknowledged, ...after];
    await waitFor(
      'the restored node to hold every acknowledged write',
      async () => {
        const local = await fetchLocalAll(restored.endpoint, expected);
        return local.every((r, i) => r?.value === `v-${expected[i]}`) ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    // What the backup held was not sent again: only writes from the backup on were.
    const received = await infoNumber(restored.endpoint, 'keys_received');
    const report = `received ${received} keys; ${BEFORE} were written before the backup, ${writing.acknowledged.length - duringBackup} after it started plus ${AFTER} while the node was down`;
    expect(writing.acknowledged.length + AFTER).toBeLessThan(BEFORE);
    expect({ report, bounded: received <= writing.acknowledged.length + AFTER }).toEqual({
      report,
      bounded: true,
    });
  });
});
