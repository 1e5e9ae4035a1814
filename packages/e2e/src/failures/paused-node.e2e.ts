import { ReplyError, RequestTimeoutError } from '@kv/protocol';
import { openClient } from '../harness/clients';
import { Cluster } from '../harness/cluster';
import { coordinatorLog, nodeLog } from '../harness/log-lines';
import { MARGIN_MS } from '../harness/margin';
import { memberIds, send, text, withConnection } from '../harness/resp';
import { timed, timedFailure } from '../harness/wait';

// Long enough that the reads below happen while the paused node is still in the ring.
const FAILURE_TIMEOUT_MS = 5000;
const REPLICA_TIMEOUT_MS = 500;
const CLIENT_TIMEOUT_MS = 800;

describe('a paused (SIGSTOP) node', () => {
  it('times requests out cleanly, is served around, and rejoins after SIGCONT', async () => {
    const cluster = await Cluster.start({
      nodes: 3,
      failureTimeoutMs: FAILURE_TIMEOUT_MS,
      replicaTimeoutMs: REPLICA_TIMEOUT_MS,
    });
    const client = openClient({
      coordinator: cluster.coordinatorAddress,
      requestTimeoutMs: CLIENT_TIMEOUT_MS,
      refreshIntervalMs: 0,
    });
    await client.put('user:1', 'Alice');
    const [paused, other, third] = await cluster.replicaSet('user:1');
    const coordinatorFrom = cluster.coordinator.mark;
    const nodeFrom = paused.process.mark;

    paused.process.pause();
    const pausedAt = performance.now();

    // Straight to the paused node: the connection opens (the kernel accepts it), and the
    // request fails with a typed timeout after the configured time, not later.
    const direct = await timedFailure(() =>
      send(paused.port, ['GET', 'user:1'], { timeoutMs: 500 }),
    );
    expect(direct.error).toBeInstanceOf(RequestTimeoutError);
    expect(direct.error).toMatchObject({ timeoutMs: 500, message: 'no reply within 500 ms' });
    expect(direct.ms).toBeLessThan(500 + MARGIN_MS);

    // The client waits for the primary no longer than its request timeout, then a replica
    // answers.
    const read = await timed(() => client.getEntry('user:1'));
    expect(read.result.value?.toString()).toBe('Alice');
    expect(read.result).toMatchObject({ primary: paused.id, fromReplica: true });
    expect([other.id, third.id]).toContain(read.result.node);
    expect(read.ms).toBeLessThan(CLIENT_TIMEOUT_MS + MARGIN_MS);

    // Another node coordinates writes without waiting on the paused replica for W=2 ...
    const write = await timed(() => send(other.port, ['PUT', 'user:2', 'Bob', 'W', '2']));
    expect(text(write.result)).toBe('OK');
    // ... and a write that needs it fails within the replica timeout, saying how many
    // acknowledged (counted when the quorum became impossible: the local copy, and the
    // third node if it was quicker than the paused node's failure).
    const all = await timedFailure(() => send(other.port, ['PUT', 'user:3', 'Carol', 'W', '3']));
    expect(all.error).toBeInstanceOf(ReplyError);
    expect(all.error).toMatchObject({
      code: 'UNAVAILABLE',
      message: expect.stringMatching(/^UNAVAILABLE [12] of 3 replicas acknowledged$/) as unknown,
    });
    expect(all.ms).toBeLessThan(REPLICA_TIMEOUT_MS + MARGIN_MS);
    const quorumRead = await timedFailure(() => send(other.port, ['GET', 'user:1', 'R', '3']));
    expect(quorumRead.error).toMatchObject({
      code: 'UNAVAILABLE',
      message: expect.stringMatching(/^UNAVAILABLE [12] of 3 replicas answered$/) as unknown,
    });
    expect(quorumRead.ms).toBeLessThan(REPLICA_TIMEOUT_MS + MARGIN_MS);
    expect(text(await send(third.port, ['GET', 'user:2']))).toBe('Bob');

    // Silent for the failure timeout: the coordinator removes it.
    await cluster.coordinator.waitForLine(
      coordinatorLog.dead(paused.id),
      FAILURE_TIMEOUT_MS + MARGIN_MS - (performance.now() - pausedAt),
      coordinatorFrom,
    );
    expect(await memberIds(cluster.coordinatorPort)).toEqual([other.id, third.id].sort());

    // Resumed, it learns it was dropped, registers again and is back in the ring.
    paused.process.resume();
    await paused.process.waitForLine(nodeLog.registeringAgain, 10_000, nodeFrom);
    await cluster.waitForMembers(
      cluster.nodes.map((n) => n.id),
      10_000,
    );
    await cluster.coordinator.waitForLine(
      coordinatorLog.registered(paused.id),
      1000,
      coordinatorFrom,
    );
    const rows = await cluster.members();
    expect(rows.find((r) => r.id === paused.id)).toMatchObject({ state: 'up' });
    // It answers again, and still heartbeats a while later.
    expect(text(await withConnection(paused.port, (c) => c.send(['PING'])))).toBe('PONG');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const later = (await cluster.members()).find((r) => r.id === paused.id);
    expect(later?.state).toBe('up');
    expect(later?.heartbeatAgeMs).toBeLessThan(FAILURE_TIMEOUT_MS);
  });
});
