import { openClient } from '../harness/clients';
import { Cluster } from '../harness/cluster';
import { coordinatorLog, nodeLog } from '../harness/log-lines';
import { memberIds } from '../harness/resp';
import { waitFor } from '../harness/wait';

// Long, so that a node gone from LIST_NODES before it elapsed has left, not been found dead.
const FAILURE_TIMEOUT_MS = 15_000;

describe('graceful SIGTERM of a node', () => {
  it('leaves the ring at once, exits 0, and loses no acknowledged write', async () => {
    const cluster = await Cluster.start({ nodes: 4, failureTimeoutMs: FAILURE_TIMEOUT_MS });
    const client = openClient({ coordinator: cluster.coordinatorAddress, requestTimeoutMs: 3000 });
    const acknowledged = new Map<string, string>();
    for (let i = 0; i < 100; i++) {
      await client.put(`key:${i}`, `v${i}`);
      acknowledged.set(`key:${i}`, `v${i}`);
    }
    const leaving = cluster.node(1);
    const stayed = cluster.nodes.filter((n) => n !== leaving).map((n) => n.id);
    const from = cluster.coordinator.mark;

    // Writes keep coming while the node stops; those acknowledged must all survive. One
    // that fails is written again until it is acknowledged, so every key ends with a value
    // known to be acknowledged.
    let writing = true;
    let writes = 0;
    const writer = (async (): Promise<unknown> => {
      try {
        for (let i = 0; writing; i++) {
          const key = `key:${i % 100}`;
          for (let attempt = 0; ; attempt++) {
            const value = `w${i}-${attempt}`;
            try {
              await client.put(key, value);
              acknowledged.set(key, value);
              writes++;
              break;
            } catch (err) {
              if (attempt === 2) throw err;
            }
          }
        }
        return undefined;
      } catch (err) {
        return err;
      }
    })();

    const stoppedAt = performance.now();
    leaving.process.signal('SIGTERM');
    const gone = await waitFor(
      `${leaving.id} to leave LIST_NODES`,
      async () =>
        (await memberIds(cluster.coordinatorPort)).includes(leaving.id)
          ? undefined
          : performance.now() - stoppedAt,
      { timeoutMs: FAILURE_TIMEOUT_MS - 1000 },
    );
    expect(gone).toBeLessThan(FAILURE_TIMEOUT_MS);
    expect(await leaving.process.waitForExit(10_000)).toEqual({ code: 0, signal: null });
    writing = false;
    expect(await writer).toBeUndefined();
    expect(writes).toBeGreaterThan(0);

    await cluster.coordinator.waitForLine(coordinatorLog.unregistered(leaving.id), 1000, from);
    expect(cluster.coordinator.output()).not.toMatch(coordinatorLog.dead(leaving.id));
    await leaving.process.waitForLine(nodeLog.unregistered, 1000);
    await leaving.process.waitForLine(nodeLog.stopped, 1000);
    await cluster.waitForMembers(stayed, 10_000);

    const reader = openClient({ coordinator: cluster.coordinatorAddress });
    const lost: string[] = [];
    for (const [key, value] of acknowledged) {
      const found = await reader.getString(key);
      if (found !== value) lost.push(`${key}: expected ${value}, found ${String(found)}`);
    }
    expect(lost).toEqual([]);
    expect(acknowledged.size).toBe(100);
  });
});
