import { ReplyError } from '@kv/protocol';
import { openClient } from '../harness/clients';
import { Cluster } from '../harness/cluster';
import { coordinatorLog, escapeRegExp } from '../harness/log-lines';
import { MARGIN_MS } from '../harness/margin';
import { fetchLocal, send, text } from '../harness/resp';
import { runKvCommand } from '../harness/run-command';
import { timedFailure } from '../harness/wait';

const FAILURE_TIMEOUT_MS = 3000;
const REPLICA_TIMEOUT_MS = 1000;

async function startCluster(): Promise<Cluster> {
  return Cluster.start({
    nodes: 3,
    failureTimeoutMs: FAILURE_TIMEOUT_MS,
    replicaTimeoutMs: REPLICA_TIMEOUT_MS,
  });
}

/** Both copies hold the same version of `value`, as each node's own FETCH shows. */
async function expectSameCopy(ports: number[], key: string, value: string): Promise<void> {
  const copies = await Promise.all(ports.map((port) => fetchLocal(port, key)));
  for (const copy of copies) expect(copy).toMatchObject({ value, expiresAt: 0 });
  const versions = new Set(copies.map((c) => `${c?.ts}/${c?.origin}`));
  expect(versions.size).toBe(1);
}

describe('replicas lost', () => {
  it('one replica dead: a W=2 PUT succeeds and both live copies hold it', async () => {
    const cluster = await startCluster();
    const client = openClient({ coordinator: cluster.coordinatorAddress, retries: 0 });
    const [primary, replica, lost] = await cluster.replicaSet('k');
    const from = cluster.coordinator.mark;
    await lost.process.kill();

    // Still in the ring: the write goes to all three and two acknowledge.
    await client.put('k', 'v1', { writeQuorum: 2 });
    await expectSameCopy([primary.port, replica.port], 'k', 'v1');
    // A node that is not the key's primary coordinates the same way.
    expect(text(await send(replica.port, ['PUT', 'k', 'v2', 'W', '2']))).toBe('OK');
    await expectSameCopy([primary.port, replica.port], 'k', 'v2');

    // Out of the ring: the key has two replicas left, and W=2 is both of them.
    await cluster.coordinator.waitForLine(
      coordinatorLog.dead(lost.id),
      FAILURE_TIMEOUT_MS + MARGIN_MS,
      from,
    );
    await cluster.waitForMembers([primary.id, replica.id], 10_000);
    await client.put('k', 'v3', { writeQuorum: 2 });
    await expectSameCopy([primary.port, replica.port], 'k', 'v3');
    expect(await client.getString('k')).toBe('v3');
  });

  it('two nodes dead: a W=2 PUT fails with UNAVAILABLE, and the survivor still serves old keys', async () => {
    const cluster = await startCluster();
    const client = openClient({ coordinator: cluster.coordinatorAddress, retries: 0 });
    for (let i = 0; i < 20; i++) await client.put(`old:${i}`, `value ${i}`);
    const [survivor, ...lost] = await cluster.replicaSet('k');
    await Promise.all(lost.map((n) => n.process.kill()));

    // Straight to the survivor: its own copy acknowledges, the dead ones cannot.
    const direct = await timedFailure(() => send(survivor.port, ['PUT', 'k', 'new', 'W', '2']));
    expect(direct.error).toBeInstanceOf(ReplyError);
    expect(direct.error).toMatchObject({
      code: 'UNAVAILABLE',
      message: 'UNAVAILABLE 1 of 2 replicas acknowledged',
    });
    expect(direct.ms).toBeLessThan(REPLICA_TIMEOUT_MS + MARGIN_MS);

    // Through the client, which hands the node's own account on.
    const viaClient = await timedFailure(() => client.put('k', 'new2', { writeQuorum: 2 }));
    expect(viaClient.error).toBeInstanceOf(ReplyError);
    expect(viaClient.error).toMatchObject({
      code: 'UNAVAILABLE',
      message: expect.stringMatching(/^UNAVAILABLE 1 of 2 replicas acknowledged$/) as unknown,
    });

    // Through the CLI: exit code 3 (unavailable), the reason on the screen.
    const cli = await runKvCommand(cluster.coordinatorAddress, 'PUT k new3');
    expect(cli.status.code).toBe(3);
    expect(cli.stdout + cli.stderr).toMatch(/UNAVAILABLE 1 of 2 replicas acknowledged/);

    // Reads need one replica: every old key is still there.
    for (let i = 0; i < 20; i++) {
      expect(text(await send(survivor.port, ['GET', `old:${i}`]))).toBe(`value ${i}`);
      expect(await client.getString(`old:${i}`)).toBe(`value ${i}`);
    }
  });

  it('primary and one replica dead: the last replica still serves reads', async () => {
    const cluster = await startCluster();
    const client = openClient({ coordinator: cluster.coordinatorAddress });
    await client.put('user:1', 'Alice');
    const [primary, replica, last] = await cluster.replicaSet('user:1');
    await Promise.all([primary.process.kill(), replica.process.kill()]);

    const entry = await client.getEntry('user:1');
    expect(entry).toMatchObject({ node: last.id, primary: primary.id, fromReplica: true });
    expect(entry.value?.toString()).toBe('Alice');
    expect(text(await send(last.port, ['GET', 'user:1']))).toBe('Alice');

    const cli = await runKvCommand(cluster.coordinatorAddress, 'GET user:1');
    expect(cli.status.code).toBe(0);
    expect(cli.stdout).toMatch(
      new RegExp(
        `^\\[Client\\] GET user:1 = Alice \\(from replica ${escapeRegExp(last.id)}\\)$`,
        'm',
      ),
    );
  });
});
