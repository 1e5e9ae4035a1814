import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LMDB_SUBDIR, LmdbEngine } from '@kv/node';
import { binPath } from './harness/bins';
import { freePortRange, HOST } from './harness/free-port';
import { ManagedProcess } from './harness/managed-process';
import { runKv, runKvCommand } from './harness/run-command';

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
    const other = await freePortRange(4);
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
