import { mkdtempSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Cluster,
  loopbackPlacement,
  type ClusterNode,
  type ClusterPlacement,
} from '../harness/cluster';
import { ManagedProcess } from '../harness/managed-process';
import { CRASH_BANNER, FILL_VALUE, fill, missing, serving } from '../harness/fill';
import { send, text } from '../harness/resp';
import { waitFor } from '../harness/wait';
import { runSync } from './system-command';

/**
 * A file system of its own for a node: a small tmpfs, mounted in a mount namespace that a
 * `sleep` holds open, so the test can grow it (remount) between runs of the node and the
 * rest of the machine never sees it.
 */
class SmallDisk {
  private constructor(
    private readonly holder: ManagedProcess,
    readonly dir: string,
  ) {}

  static async create(size: string): Promise<SmallDisk> {
    const dir = mkdtempSync(join(tmpdir(), 'kv-nemesis-disk-'));
    const holder = ManagedProcess.start({
      name: 'mount namespace',
      command: 'unshare',
      args: ['--mount', '--propagation', 'private', 'sleep', '600'],
    });
    const disk = new SmallDisk(holder, dir);
    try {
      // Mounted only once the holder is in a namespace of its own, never in this one.
      const own = readlinkSync('/proc/self/ns/mnt');
      await waitFor(
        'the mount namespace',
        () => (readlinkSync(`/proc/${holder.pid}/ns/mnt`) !== own ? true : undefined),
        { timeoutMs: 10_000 },
      );
      disk.mount(size);
      return disk;
    } catch (err) {
      await disk.destroy();
      throw err;
    }
  }

  /** `nsenter` arguments that run `command` in the namespace. */
  enter(command: readonly string[]): string[] {
    return ['-t', String(this.holder.pid), '-m', '--', ...command];
  }

  mount(size: string): void {
    runSync(
      'nsenter',
      this.enter(['mount', '-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', this.dir]),
    );
  }

  /** Makes the file system `size` large, keeping what it holds. */
  grow(size: string): void {
    runSync('nsenter', this.enter(['mount', '-o', `remount,size=${size}`, this.dir]));
  }

  /** Nodes run in the namespace (their data on this disk); the coordinator as usual. */
  placement(): ClusterPlacement {
    const loopback = loopbackPlacement();
    return {
      endpoint: (role) => loopback.endpoint(role),
      launch: (role, script, args) =>
        role === 'coordinator'
          ? loopback.launch(role, script, args)
          : { command: 'nsenter', args: this.enter([process.execPath, script, ...args]) },
    };
  }

  async destroy(): Promise<void> {
    // The tmpfs goes with the namespace.
    await this.holder.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** One node with `--fsync fsync` on `disk`, written to until full (see {@link fill}). */
async function fillNode(
  disk: SmallDisk,
  fsync: 'always' | 'periodic',
): Promise<{ cluster: Cluster; node: ClusterNode; acknowledged: string[]; refusal?: string }> {
  const cluster = await Cluster.start({
    nodes: 1,
    nodeDataRoot: disk.dir,
    nodeArgs: ['--fsync', fsync, '--write-quorum', '1'],
    placement: disk.placement(),
  });
  const node = cluster.node(0);
  const filled = await fill(node.port);
  expect(filled.acknowledged.length).toBeGreaterThan(1000);
  return { cluster, node, ...filled };
}

describe('a durable node whose disk fills up', () => {
  let disk: SmallDisk | undefined;
  beforeEach(async () => {
    disk = await SmallDisk.create('12m');
  });
  afterEach(async () => {
    await disk?.destroy();
    disk = undefined;
  });
  const theDisk = (): SmallDisk => {
    if (!disk) throw new Error('no disk: its creation failed');
    return disk;
  };

  it('--fsync always: LMDB failing is reported and survived; once the log cannot grow the node stops with code 1, cannot start on the full disk, and restarted on a larger one it holds every acknowledged write', async () => {
    const { cluster, node, acknowledged } = await fillNode(theDisk(), 'always');

    const status = await node.process.waitForExit(30_000);
    expect(status.code).toBe(1);
    const output = node.process.output();
    // LMDB's failure first: the node says so, and carries on with its log.
    expect(output).toMatch(
      /The database could not commit writes \(.+\): they stay in the write-ahead log/,
    );
    // Then the log's: a clear line, not a crash.
    expect(output).toMatch(
      /kv-node: stopped: the write-ahead log failed \(ENOSPC: no space left on device/,
    );
    expect(output).not.toMatch(CRASH_BANNER);
    expect(output).not.toMatch(/Commit failed \(see commitError/);

    // On the disk still full it cannot replay its log: it says so, and where.
    const stuck = cluster.restartNode(0);
    expect((await stuck.process.waitForExit(30_000)).code).toBe(1);
    expect(stuck.process.output()).toMatch(
      /kv-node: cannot start: opening the data directory .+ failed \(.+\): is its disk full or failing\?/,
    );
    expect(stuck.process.output()).not.toMatch(CRASH_BANNER);

    theDisk().grow('256m');
    const again = cluster.restartNode(0);
    await serving(again.port);
    expect(await missing(again.port, acknowledged)).toEqual([]);
    expect(again.process.output()).toMatch(/write\(s\) replayed from the write-ahead log/);
  });

  it('--fsync periodic: writes are refused while the disk is full, reads go on, and writes are taken again once there is room', async () => {
    const { cluster, node, acknowledged, refusal } = await fillNode(theDisk(), 'periodic');
    expect(refusal).toMatch(
      /^UNAVAILABLE 0 of 1 replicas acknowledged \(127\.0\.0\.1:\d+ refused: the database could not commit the write \(.+\): is its disk full\?\)$/,
    );
    expect(node.process.running).toBe(true);
    const first = acknowledged[0] as string;
    expect(text(await send(node.port, ['GET', first]))).toBe(FILL_VALUE.toString());
    await node.process.waitForLine(
      /The database could not commit writes \(.+\): this node refuses writes until it can/,
      10_000,
    );

    theDisk().grow('256m');
    // The next write after a failed one may still meet the old transaction's end.
    await waitFor(
      'a write to be taken again',
      async () => (text(await send(node.port, ['SET', 'after', 'v'])) === 'OK' ? true : undefined),
      { timeoutMs: 20_000 },
    );
    await node.process.waitForLine(/The database commits writes again/, 10_000);
    expect(node.process.output()).not.toMatch(CRASH_BANNER);

    await node.process.terminate(30_000);
    const again = cluster.restartNode(0);
    await serving(again.port);
    expect(await missing(again.port, acknowledged)).toEqual([]);
    expect(text(await send(again.port, ['GET', 'after']))).toBe('v');
  });
});
