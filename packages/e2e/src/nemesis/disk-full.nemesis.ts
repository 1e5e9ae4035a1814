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
import { send, text, withConnection } from '../harness/resp';
import { waitFor } from '../harness/wait';
import { runSync } from './system-command';

/** Values written until the disk is full: a 12 MiB file system takes a few thousand. */
const VALUE = Buffer.alloc(2000, 0x61);
const MOST_WRITES = 20_000;
/** What Node prints when an error ends the process (an unhandled rejection, say). */
const CRASH_BANNER = /^Node\.js v\d+/m;

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
    // Mounted only once the holder is in a namespace of its own, never in this one.
    const own = readlinkSync('/proc/self/ns/mnt');
    await waitFor(
      'the mount namespace',
      () => (readlinkSync(`/proc/${holder.pid}/ns/mnt`) !== own ? true : undefined),
      { timeoutMs: 10_000 },
    );
    disk.mount(size);
    return disk;
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

/**
 * Writes distinct keys, 20 at a time, until a write is refused, the node goes, or
 * {@link MOST_WRITES}; returns the keys acknowledged and the first refusal.
 */
async function fill(port: number): Promise<{ acknowledged: string[]; refusal?: string }> {
  const acknowledged: string[] = [];
  let refusal: string | undefined;
  await withConnection(
    port,
    async (c) => {
      for (let i = 0; i < MOST_WRITES && refusal === undefined; i += 20) {
        const batch = Array.from({ length: 20 }, (_, j) => `fill:${i + j}`);
        await Promise.all(
          batch.map((key) =>
            c.send(['SET', key, VALUE]).then(
              () => void acknowledged.push(key),
              (err: unknown) => void (refusal ??= (err as Error).message),
            ),
          ),
        );
      }
    },
    { timeoutMs: 10_000 },
  ).catch((err: unknown) => void (refusal ??= (err as Error).message));
  return { acknowledged, refusal };
}

/** Every key of `keys` read back from the node holds {@link VALUE}; the ones that do not. */
async function missing(port: number, keys: readonly string[]): Promise<string[]> {
  return withConnection(
    port,
    async (c) => {
      const lost: string[] = [];
      for (const key of keys) {
        const value = await c.send(['GET', key]);
        if (!Buffer.isBuffer(value) || !value.equals(VALUE)) lost.push(key);
      }
      return lost;
    },
    { timeoutMs: 10_000 },
  );
}

/** Waits until the node at `port` answers a read. */
function serving(port: number): Promise<true> {
  return waitFor(
    'the node to serve again',
    async () => ((await send(port, ['GET', 'fill:0']).catch(() => undefined)) ? true : undefined),
    { timeoutMs: 60_000 },
  );
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
  let disk: SmallDisk;
  beforeEach(async () => {
    disk = await SmallDisk.create('12m');
  });
  afterEach(async () => {
    await disk.destroy();
  });

  it('--fsync always: LMDB failing is reported and survived; once the log cannot grow the node stops with code 1, and restarted on a larger disk it holds every acknowledged write', async () => {
    const { cluster, node, acknowledged } = await fillNode(disk, 'always');

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

    disk.grow('256m');
    const again = cluster.restartNode(0);
    await serving(again.port);
    expect(await missing(again.port, acknowledged)).toEqual([]);
    expect(again.process.output()).toMatch(/write\(s\) replayed from the write-ahead log/);
  });

  it('--fsync periodic: writes are refused while the disk is full, reads go on, and writes are taken again once there is room', async () => {
    const { cluster, node, acknowledged, refusal } = await fillNode(disk, 'periodic');
    expect(refusal).toMatch(/^UNAVAILABLE /);
    expect(node.process.running).toBe(true);
    const first = acknowledged[0] as string;
    expect(text(await send(node.port, ['GET', first]))).toBe(VALUE.toString());
    await node.process.waitForLine(
      /The database could not commit writes \(.+\): this node refuses writes until it can/,
      10_000,
    );

    disk.grow('256m');
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
