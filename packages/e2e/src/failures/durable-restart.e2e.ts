import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openClient } from '../harness/clients';
import { Cluster } from '../harness/cluster';
import { checkHistories, checkFinalValue, type Violation } from '../harness/history-checker';
import { HistoryRecorder } from '../harness/history-recorder';
import { perform } from '../harness/operation';
import { infoNumber, send, text } from '../harness/resp';
import { seededRandom } from '../harness/seeded-random';
import { waitFor } from '../harness/wait';
import { ClientTarget, PinnedTarget, type WorkloadTarget } from '../harness/workload-targets';

const CLIENTS = 6;
const KEYS = 150;
/** All nodes are killed once this many operations are done. */
const KILL_AFTER = 3000;
const SEED = Number(process.env['E2E_WORKLOAD_SEED'] ?? Date.now() % 1_000_000);

describe('durable nodes (--data-dir, --fsync always) SIGKILLed', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'kv-e2e-durable-'));
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('all three SIGKILLed at once under writes: after a restart every acknowledged write is there, no delete undone', async () => {
    const cluster = await Cluster.start({
      nodes: 3,
      dataDir: join(root, 'coordinator'),
      nodeDataRoot: root,
      failureTimeoutMs: 3000,
      replicaTimeoutMs: 2000,
    });
    const targets: WorkloadTarget[] = Array.from({ length: CLIENTS }, (_, i) =>
      i % 2 === 0
        ? new ClientTarget(
            `c${i} (client)`,
            openClient({
              coordinator: cluster.coordinatorAddress,
              requestTimeoutMs: 2000,
              retries: 0,
            }),
          )
        : new PinnedTarget(`c${i} (pinned)`, cluster, cluster.node(Math.floor(i / 2)), {
            connectTimeoutMs: 1000,
            requestTimeoutMs: 2000,
          }),
    );
    const recorder = new HistoryRecorder();
    const origin = performance.now();
    const progress = { done: 0, killed: false };
    const runClient = async (index: number, target: WorkloadTarget): Promise<void> => {
      const random = seededRandom(SEED * 31 + index);
      for (let i = 0; !progress.killed; i++) {
        const key = `key:${Math.floor(random() * KEYS)}`;
        const kind = random() < 0.75 ? 'put' : 'delete';
        await perform(target, recorder, { kind, key, op: `c${index}-op${i}` });
        progress.done++;
      }
    };
    const killer = (async () => {
      await waitFor(
        'the workload to reach the kill point',
        () => (progress.done >= KILL_AFTER ? true : undefined),
        { timeoutMs: 120_000, intervalMs: 5 },
      );
      // At once: no node gets to hear of another's death first.
      for (const node of cluster.nodes) node.process.signal('SIGKILL');
      progress.killed = true;
      await Promise.all(cluster.nodes.map((n) => n.process.waitForExit(10_000)));
    })();
    await Promise.all([...targets.map((t, i) => runClient(i, t)), killer]);
    await Promise.all(targets.map((t) => t.close()));
    const acknowledged = recorder.outcomes().ok;
    expect(acknowledged).toBeGreaterThan(KILL_AFTER / 2);

    const restarted = [...cluster.nodes].map((node) => cluster.restartNode(node.id));
    await cluster.waitForMembers(
      cluster.nodes.map((n) => n.id),
      30_000,
    );
    // Each came back through its write-ahead log (every write since it started is there:
    // a log this small has not begun a second segment).
    for (const node of restarted)
      await node.process.waitForLine(
        /: \d+ record\(s\); \d+ write\(s\) replayed from the write-ahead log/,
        10_000,
      );

    const histories = recorder.histories();
    const reader = openClient({ coordinator: cluster.coordinatorAddress });
    const finals = new Map<string, string | null>();
    for (const { key } of histories) finals.set(key, await reader.getString(key));
    const violations = checkHistories(histories, finals, origin);
    expect(violations.length === 0 ? 'ok' : report(violations, recorder)).toBe('ok');
    // Each node's own copy, read alone from its disk (R=1 on the node, W=2 of 3 wrote at
    // least two of them, so a read quorum of 2 must see every acknowledged write).
    for (const node of cluster.nodes) {
      const fromNode: Violation[] = [];
      for (const history of histories) {
        const value = text(await send(node.port, ['GET', history.key, 'R', '2']));
        const violation = checkFinalValue(history, value, origin);
        if (violation) fromNode.push(violation);
      }
      expect(fromNode.length === 0 ? 'ok' : report(fromNode, recorder)).toBe('ok');
    }
  });

  it('one restarted catches up by moving only the records that changed while it was down (at most 2x their bytes)', async () => {
    const KEYS = 2000;
    const CHANGED = 20;
    const value = (tag: string): string => tag.padEnd(100, '.');
    const cluster = await Cluster.start({
      nodes: 3,
      nodeDataRoot: root,
      failureTimeoutMs: 10_000,
      // No hints: what the node missed can only come back through the sync round.
      nodeArgs: ['--max-hints', '0'],
    });
    const client = openClient({ coordinator: cluster.coordinatorAddress });
    const keys = Array.from({ length: KEYS }, (_, i) => `catch-up:${i}`);
    for (let i = 0; i < KEYS; i += 50)
      await Promise.all(keys.slice(i, i + 50).map((k) => client.put(k, value('first'))));
    const victim = cluster.node(2);
    const held = async (): Promise<number> => {
      const info = text(await send(victim.port, ['INFO', 'keyspace'])) ?? '';
      return Number(/keys=(\d+)/.exec(info)?.[1]);
    };
    await waitFor(
      'every key on the third replica',
      async () => ((await held()) === KEYS ? true : undefined),
      { timeoutMs: 30_000, intervalMs: 100 },
    );

    await victim.process.kill();
    const changed = keys.slice(0, CHANGED);
    for (const k of changed) await client.put(k, value('second'));
    const restarted = cluster.restartNode(victim.id);
    await cluster.waitForMembers(
      cluster.nodes.map((n) => n.id),
      30_000,
    );
    await waitFor(
      'the restarted node to fetch what changed',
      async () =>
        (await infoNumber(restarted.port, 'keys_received')) >= CHANGED ? true : undefined,
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    const received = await infoNumber(restarted.port, 'bytes_received');
    const changedBytes = changed.reduce((sum, k) => sum + k.length + value('second').length, 0);
    const report = `received ${received} bytes; the ${CHANGED} changed records hold ${changedBytes}, the store ${KEYS * (changedBytes / CHANGED)}`;
    expect({ report, bounded: received > 0 && received <= 2 * changedBytes }).toEqual({
      report,
      bounded: true,
    });
    expect(await infoNumber(restarted.port, 'keys_received')).toBe(CHANGED);
  });
});

function report(violations: Violation[], recorder: HistoryRecorder): string {
  return [
    `${violations.length} key(s) broke the rules (seed ${SEED}; writes ${JSON.stringify(recorder.outcomes())}):`,
    ...violations.slice(0, 3).map((v) => v.message),
  ].join('\n\n');
}
