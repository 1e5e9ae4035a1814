import { openClient } from './harness/clients';
import { Cluster } from './harness/cluster';
import {
  checkFinalValue,
  checkHistories,
  type KeyHistory,
  type Violation,
} from './harness/history-checker';
import { HistoryRecorder } from './harness/history-recorder';
import { coordinatorLog } from './harness/log-lines';
import { MARGIN_MS } from './harness/margin';
import { perform } from './harness/operation';
import { send, text } from './harness/resp';
import { seededRandom } from './harness/seeded-random';
import { waitFor } from './harness/wait';
import { ClientTarget, PinnedTarget, type WorkloadTarget } from './harness/workload-targets';

const CLIENTS = 8;
const OPERATIONS_PER_CLIENT = 2000;
const KEYS = 200;
const FAILURE_TIMEOUT_MS = 2000;
/** A node is killed once this share of all operations is done. */
const KILL_AT = 0.4;
const SEED = Number(process.env['E2E_WORKLOAD_SEED'] ?? Date.now() % 1_000_000);

function report(what: string, violations: Violation[], recorder: HistoryRecorder): string {
  const shown = violations.slice(0, 3).map((v) => v.message);
  return [
    `${violations.length} key(s) broke the rule ${what} (seed ${SEED}; writes ${JSON.stringify(recorder.outcomes())}):`,
    ...shown,
    ...(violations.length > shown.length
      ? [`... and ${violations.length - shown.length} more`]
      : []),
  ].join('\n\n');
}

async function runClient(
  index: number,
  target: WorkloadTarget,
  recorder: HistoryRecorder,
  progress: { done: number },
): Promise<void> {
  const random = seededRandom(SEED * 31 + index);
  for (let i = 0; i < OPERATIONS_PER_CLIENT; i++) {
    const key = `key:${Math.floor(random() * KEYS)}`;
    const roll = random();
    const kind = roll < 0.45 ? 'put' : roll < 0.6 ? 'delete' : 'get';
    await perform(target, recorder, { kind, key, op: `c${index}-op${i}` });
    progress.done++;
  }
}

/** A node joins once this share of all operations is done (in the run with a join). */
const JOIN_AT = 0.2;

describe('concurrent workload with a node killed mid-run', () => {
  it(`${CLIENTS} clients x ${OPERATIONS_PER_CLIENT} operations on ${KEYS} keys: every acknowledged write survives, no delete is undone`, async () => {
    await runWorkload(false);
  });

  it('the same, with a fifth node joining before the kill: nothing lost, nothing resurrected', async () => {
    await runWorkload(true);
  });
});

async function runWorkload(withJoin: boolean): Promise<void> {
  const cluster = await Cluster.start({
    nodes: 4,
    failureTimeoutMs: FAILURE_TIMEOUT_MS,
    replicaTimeoutMs: 2000,
  });
  const victim = cluster.node(2);
  // Half the clients route through @kv/client, half are pinned to one node each (the
  // victim included), which then coordinates every request they send.
  const targets: WorkloadTarget[] = Array.from({ length: CLIENTS }, (_, i) =>
    i % 2 === 0
      ? new ClientTarget(
          `c${i} (client)`,
          openClient({ coordinator: cluster.coordinatorAddress, requestTimeoutMs: 3000 }),
        )
      : new PinnedTarget(`c${i} (pinned)`, cluster, cluster.node(Math.floor(i / 2))),
  );
  const recorder = new HistoryRecorder();
  const progress = { done: 0 };
  const total = CLIENTS * OPERATIONS_PER_CLIENT;
  const origin = performance.now();
  const from = cluster.coordinator.mark;

  let killedAfter = -1;
  let joining: Promise<unknown> = Promise.resolve();
  const killer = (async () => {
    if (withJoin) {
      await waitFor(
        'the workload to reach the join point',
        () => (progress.done >= total * JOIN_AT ? true : undefined),
        { timeoutMs: 120_000, intervalMs: 5 },
      );
      joining = cluster.addNode(60_000);
    }
    await waitFor(
      'the workload to reach the kill point',
      () => (progress.done >= total * KILL_AT ? true : undefined),
      { timeoutMs: 120_000, intervalMs: 5 },
    );
    killedAfter = progress.done;
    await victim.process.kill();
  })();
  await Promise.all([...targets.map((t, i) => runClient(i, t, recorder, progress)), killer]);
  await Promise.all(targets.map((t) => t.close()));
  // The joiner may finish before or after the kill; either way it must end up serving.
  await joining;
  expect(cluster.nodes).toHaveLength(withJoin ? 5 : 4);
  expect(killedAfter).toBeGreaterThan(0);
  expect(killedAfter).toBeLessThan(total * 0.9);

  // The dead node leaves the ring; the survivors route with the new one.
  await cluster.coordinator.waitForLine(
    coordinatorLog.dead(victim.id),
    FAILURE_TIMEOUT_MS + MARGIN_MS,
    from,
  );
  const survivors = cluster.runningNodes();
  await cluster.waitForMembers(
    survivors.map((n) => n.id),
    10_000,
  );

  const histories = recorder.histories();
  expect(histories.length).toBeGreaterThan(KEYS * 0.9);
  // As a user reads: @kv/client, from each key's primary.
  const reader = openClient({ coordinator: cluster.coordinatorAddress });
  const finals = new Map<string, string | null>();
  for (const { key } of histories) finals.set(key, await reader.getString(key));
  const violations = checkHistories(histories, finals, origin);
  expect(violations.length === 0 ? 'ok' : report('through @kv/client', violations, recorder)).toBe(
    'ok',
  );

  // Through every surviving node, with a read quorum of 2 (which meets W=2 of N=3).
  for (const node of survivors) {
    const fromNode: Violation[] = [];
    for (const history of histories as KeyHistory[]) {
      const value = text(await send(node.port, ['GET', history.key, 'R', '2']));
      const violation = checkFinalValue(history, value, origin);
      if (violation) fromNode.push(violation);
    }
    expect(
      fromNode.length === 0 ? 'ok' : report(`through ${node.id} with R=2`, fromNode, recorder),
    ).toBe('ok');
  }
}
