import { openClient } from '../harness/clients';
import { Cluster } from '../harness/cluster';
import { coordinatorLog, escapeRegExp } from '../harness/log-lines';
import { MARGIN_MS } from '../harness/margin';
import { memberIds, nodesForKey } from '../harness/resp';
import { runKvCommand } from '../harness/run-command';

// Long enough for the CLI process to start and read the ring while it still lists the
// dead primary, so that it has to fall back to a replica.
const FAILURE_TIMEOUT_MS = 4000;

describe('primary killed after a PUT', () => {
  it('serves the value from a replica, through the kv CLI and @kv/client', async () => {
    const cluster = await Cluster.start({ nodes: 3, failureTimeoutMs: FAILURE_TIMEOUT_MS });
    const client = openClient({ coordinator: cluster.coordinatorAddress, requestTimeoutMs: 2000 });
    await client.put('user:1', 'Alice');
    const [primary, ...replicas] = await nodesForKey(cluster.coordinatorPort, 'user:1');
    expect(await client.nodesForKey('user:1')).toEqual({ primary, replicas });

    await cluster.node(primary as string).process.kill();

    const entry = await client.getEntry('user:1');
    expect(entry.value?.toString()).toBe('Alice');
    expect(entry).toMatchObject({ primary, fromReplica: true });
    expect(replicas).toContain(entry.node);

    const cli = await runKvCommand(cluster.coordinatorAddress, 'GET user:1');
    expect({ code: cli.status.code, transcript: cli.transcript }).toEqual({
      code: 0,
      transcript: expect.stringMatching(
        new RegExp(
          `\\[Client\\] GET user:1 = Alice \\(from replica (${replicas.map(escapeRegExp).join('|')})\\)$`,
          'm',
        ),
      ) as unknown,
    });
    // The coordinator has not given up on the primary yet: the CLI really did fall back.
    expect(await memberIds(cluster.coordinatorPort)).toContain(primary);
  });

  it('is removed by the coordinator within the failure timeout, from LIST_NODES and GET_NODES_FOR_KEY', async () => {
    const cluster = await Cluster.start({ nodes: 3, failureTimeoutMs: FAILURE_TIMEOUT_MS });
    const client = openClient({ coordinator: cluster.coordinatorAddress, requestTimeoutMs: 2000 });
    await client.put('user:1', 'Alice');
    const [primary, ...replicas] = await nodesForKey(cluster.coordinatorPort, 'user:1');
    const from = cluster.coordinator.mark;

    await cluster.node(primary as string).process.kill();

    await cluster.coordinator.waitForLine(
      coordinatorLog.dead(primary as string),
      FAILURE_TIMEOUT_MS + MARGIN_MS,
      from,
    );
    expect(await memberIds(cluster.coordinatorPort)).toEqual([...replicas].sort());
    const now = await nodesForKey(cluster.coordinatorPort, 'user:1');
    expect(now).not.toContain(primary);
    expect([...now].sort()).toEqual([...replicas].sort());
    // The survivors were replicas all along: the value is where the new ring says.
    await cluster.waitForMembers(replicas, 10_000);
    await client.refreshRing();
    const entry = await client.getEntry('user:1');
    expect(entry).toMatchObject({ node: now[0], primary: now[0], fromReplica: false });
    expect(entry.value?.toString()).toBe('Alice');
    expect(cluster.coordinator.output()).not.toMatch(
      new RegExp(`Node (${replicas.map(escapeRegExp).join('|')}) marked as dead`),
    );
  });
});
