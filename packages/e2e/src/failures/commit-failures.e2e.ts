import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Cluster,
  loopbackPlacement,
  type ClusterNode,
  type ClusterPlacement,
} from '../harness/cluster';
import { CRASH_BANNER, FILL_VALUE, fill, missing, serving } from '../harness/fill';
import { scanKeys, send, text } from '../harness/resp';
import { waitFor } from '../harness/wait';

/**
 * Nodes whose files may not grow past 96 MiB (`ulimit -f`, with SIGXFSZ ignored, so a write
 * past it fails with EFBIG) until {@link lift}: LMDB's commits then fail as on a full disk,
 * without root. The log goes on: while LMDB fails, the log's segment holds at most the
 * writes waiting for LMDB, which are refused past 64 MiB.
 */
function limitedFiles(): { placement: ClusterPlacement; lift(): void } {
  const loopback = loopbackPlacement();
  let limited = true;
  return {
    placement: {
      endpoint: (role) => loopback.endpoint(role),
      launch: (role, script, args) =>
        role === 'coordinator' || !limited
          ? loopback.launch(role, script, args)
          : {
              command: 'sh',
              // 512-byte blocks.
              args: [
                '-c',
                'trap "" XFSZ; ulimit -f 196608; exec "$0" "$@"',
                process.execPath,
                script,
                ...args,
              ],
            },
    },
    lift: () => void (limited = false),
  };
}

/**
 * One node with `--fsync fsync` and {@link limitedFiles}, written to until it refuses a
 * write (`refused`), which it must say in its log (`logged`) while it keeps serving reads.
 */
async function failingNode(
  root: string,
  fsync: 'always' | 'periodic',
  refused: RegExp,
  logged: RegExp,
): Promise<{ cluster: Cluster; node: ClusterNode; acknowledged: string[]; lift(): void }> {
  const files = limitedFiles();
  const cluster = await Cluster.start({
    nodes: 1,
    nodeDataRoot: root,
    nodeArgs: ['--fsync', fsync, '--write-quorum', '1'],
    placement: files.placement,
  });
  const node = cluster.node(0);
  const { acknowledged, refusal } = await fill(node.port);
  expect(refusal).toMatch(refused);
  expect(node.process.running).toBe(true);
  expect(text(await send(node.port, ['GET', acknowledged[0] as string]))).toBe(
    FILL_VALUE.toString(),
  );
  await node.process.waitForLine(logged, 10_000);
  // What an operator sees meanwhile (kv_storage_commits_failing on /metrics).
  expect(text(await send(node.port, ['INFO', 'persistence']))).toMatch(/^commits_failing:1\r?$/m);
  return { cluster, node, acknowledged, lift: files.lift };
}

/**
 * Stops the node (SIGTERM: code 0, no crash), starts it again without the limit, and checks
 * that it holds exactly the writes acknowledged and counts them (DBSIZE).
 */
async function stopAndRestart(
  cluster: Cluster,
  node: ClusterNode,
  acknowledged: readonly string[],
  lift: () => void,
): Promise<ClusterNode> {
  expect(await node.process.terminate(30_000)).toEqual({ code: 0, signal: null });
  expect(node.process.output()).not.toMatch(CRASH_BANNER);
  expect(node.process.output()).not.toMatch(/error while stopping|did not finish stopping/);
  // The stop went to its end: the node gave its data directory up.
  expect(node.process.output()).toMatch(/\[Node \d+\] Stopped/);
  lift();
  const again = cluster.restartNode(0);
  await serving(again.port);
  expect(await missing(again.port, acknowledged)).toEqual([]);
  // Nothing refused stayed, and the totals saved agree with what is there.
  const held = await scanKeys(again.port);
  expect(held.filter((k) => k.startsWith('fill:')).sort()).toEqual([...acknowledged].sort());
  expect(await send(again.port, ['DBSIZE'])).toBe(held.length);
  return again;
}

describe('a durable node whose commits fail (its files may not grow)', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'kv-e2e-commit-'));
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('--fsync always: keeps acknowledging into its log, refuses writes past its backlog, stops cleanly, and restarted holds every acknowledged write', async () => {
    const { cluster, node, acknowledged, lift } = await failingNode(
      root,
      'always',
      /^UNAVAILABLE 0 of 1 replicas acknowledged \(127\.0\.0\.1:\d+ refused: writes are refused while the database is too far behind its write-ahead log: applying the log failed \(.+\)\)$/,
      /The database could not commit writes \(.+\): they stay in the write-ahead log/,
    );
    // Far more than LMDB took (about 25,000 in 96 MiB): the log took them while it could not.
    expect(acknowledged.length).toBeGreaterThan(40_000);
    const again = await stopAndRestart(cluster, node, acknowledged, lift);
    expect(again.process.output()).toMatch(/write\(s\) replayed from the write-ahead log/);
  });

  it('--fsync periodic: refuses the writes it cannot commit, serves reads, stops cleanly, and restarted holds exactly the writes it acknowledged', async () => {
    const { cluster, node, acknowledged, lift } = await failingNode(
      root,
      'periodic',
      /^UNAVAILABLE 0 of 1 replicas acknowledged \(127\.0\.0\.1:\d+ refused: the database could not commit the write \(.+\): is its disk full\?\)$/,
      /The database could not commit writes \(.+\): this node refuses writes until it can/,
    );
    expect(acknowledged.length).toBeGreaterThan(500);
    // What it counts while refusing is what it holds.
    expect(await send(node.port, ['DBSIZE'])).toBe((await scanKeys(node.port)).length);
    const again = await stopAndRestart(cluster, node, acknowledged, lift);
    await waitFor(
      'a write to be taken',
      async () => (text(await send(again.port, ['SET', 'after', 'v'])) === 'OK' ? true : undefined),
      { timeoutMs: 10_000 },
    );
  });
});
