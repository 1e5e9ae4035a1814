import { openClient } from '../harness/clients';
import type { Cluster } from '../harness/cluster';
import type { HistoryRecorder } from '../harness/history-recorder';
import { fetchLocalAll, send, text, withConnection, type LocalRecord } from '../harness/resp';
import { describeError, waitFor } from '../harness/wait';
import { ownersAgree, type KeyState } from './anomalies';

/** Each key's owners as the coordinator places it now, primary first (pipelined `GET_NODES_FOR_KEY`). */
async function ownersOf(cluster: Cluster, keys: readonly string[]): Promise<string[][]> {
  return withConnection(cluster.coordinatorEndpoint, async (c) => {
    const replies = await Promise.all(keys.map((k) => c.send(['GET_NODES_FOR_KEY', k])));
    return replies.map((r) => (Array.isArray(r) ? r.map((id) => String(id)) : []));
  });
}

/** What every owner of every key holds (`FETCH`, one pipelined connection per node). */
export async function snapshot(cluster: Cluster, keys: readonly string[]): Promise<KeyState[]> {
  const owners = await ownersOf(cluster, keys);
  const held = new Map<string, Map<string, LocalRecord | null> | undefined>();
  for (const node of new Set(owners.flat())) {
    const mine = keys.filter((_, i) => owners[i]?.includes(node));
    try {
      const records = await fetchLocalAll(cluster.node(node).endpoint, mine, { timeoutMs: 2000 });
      held.set(node, new Map(mine.map((k, i) => [k, records[i] ?? null])));
    } catch {
      held.set(node, undefined);
    }
  }
  return keys.map((key, i) => {
    const nodes = owners[i] ?? [];
    return {
      key,
      copies: nodes
        .filter((n) => held.get(n) !== undefined)
        .map((node) => ({ node, record: held.get(node)?.get(key) ?? null })),
      unreachable: nodes.filter((n) => held.get(n) === undefined),
    };
  });
}

/** How settling went. */
export interface SettleResult {
  readonly settled: boolean;
  readonly ms: number;
  /** What was still wrong at the deadline. */
  readonly problem?: string;
}

/**
 * Waits, at most `timeoutMs`, until every node started is an `up` member routing with the
 * coordinator's ring and every key's owners all answer and agree.
 */
export async function settle(
  cluster: Cluster,
  keys: readonly string[],
  timeoutMs: number,
): Promise<SettleResult> {
  const start = performance.now();
  const left = (): number => Math.max(0, timeoutMs - (performance.now() - start));
  const result = (problem?: string): SettleResult => ({
    settled: problem === undefined,
    ms: Math.round(performance.now() - start),
    ...(problem === undefined ? {} : { problem }),
  });
  try {
    await cluster.waitForMembers(
      cluster.nodes.map((n) => n.id),
      left(),
    );
  } catch (err) {
    const members = await cluster.members().catch(() => []);
    return result(
      `membership did not settle (${members.map((m) => `${m.id} ${m.state}`).join(', ') || 'coordinator unreachable'}): ${describeError(err).split('\n')[0] ?? ''}`,
    );
  }
  let disagreeing = keys.length;
  try {
    await waitFor(
      'every key’s owners to agree',
      async () => {
        const states = await snapshot(cluster, keys);
        disagreeing = states.filter((s) => s.unreachable.length > 0 || !ownersAgree(s)).length;
        return disagreeing === 0 ? true : undefined;
      },
      { timeoutMs: left(), intervalMs: 250 },
    );
  } catch {
    return result(`the owners of ${disagreeing} key(s) still disagree`);
  }
  return result();
}

/**
 * Reads every key as a user would after the run, each read recorded in the history: once
 * through @kv/client (the key's primary), and with `GET` at each of its owners.
 */
export async function finalReads(
  cluster: Cluster,
  states: readonly KeyState[],
  recorder: HistoryRecorder,
): Promise<void> {
  const client = openClient({ coordinator: cluster.coordinatorAddress, retries: 1 });
  for (const { key, copies } of states) {
    let start = performance.now();
    const value = await client.getString(key).catch(() => undefined);
    if (value !== undefined)
      recorder.read(key, { op: 'final-read', start, end: performance.now(), value });
    for (const { node } of copies) {
      start = performance.now();
      const reply = await send(cluster.node(node).endpoint, ['GET', key]).catch(() => undefined);
      if (reply !== undefined)
        recorder.read(key, {
          op: `final-get@${node}`,
          start,
          end: performance.now(),
          value: text(reply),
        });
    }
  }
  await client.close();
}
