import { Cluster } from '../harness/cluster';
import { childEnv } from '../harness/child-env';
import { freePort, HOST } from '../harness/free-port';
import { escapeRegExp, nodeLog } from '../harness/log-lines';
import { runCommand, runKv, type CommandResult } from '../harness/run-command';
import { binPath } from '../harness/bins';

/** `kv <args>` with `KV_*` variables, as a user with them in the environment. */
function kvWithEnv(args: readonly string[], env: NodeJS.ProcessEnv): Promise<CommandResult> {
  return runCommand(
    {
      name: `kv ${args.join(' ')}`,
      command: process.execPath,
      args: [binPath('@kv/cli'), ...args],
      env: childEnv(env),
    },
    30_000,
  );
}

describe('coordinator down, clients bootstrap from seeds', () => {
  it('a new kv stores and reads through the nodes, and kv status shows them', async () => {
    const cluster = await Cluster.start({ nodes: 3 });
    const coordinator = cluster.coordinatorAddress;
    const seeds = cluster.nodes.map((n) => n.id).join(',');
    const before = await runKv(['--coordinator', coordinator, 'put', 'user:1', 'Alice']);
    expect(before.status.code).toBe(0);
    const marks = cluster.nodes.map((n) => n.process.mark);

    await cluster.coordinator.kill();
    await Promise.all(
      cluster.nodes.map((n, i) => n.process.waitForLine(nodeLog.coordinatorLost, 10_000, marks[i])),
    );

    // Without seeds a brand-new kv cannot start...
    const alone = await runKv(['--coordinator', coordinator, '--command', 'GET user:1']);
    expect({ code: alone.status.code, stderr: alone.stderr }).toEqual({
      code: 3,
      stderr: `kv: cannot reach coordinator at ${coordinator} (ECONNREFUSED): is it running?`,
    });
    // ...with them it learns the ring from a node, and writes and reads.
    const put = await runKv([
      '--coordinator',
      coordinator,
      '--seeds',
      seeds,
      '--command',
      'PUT user:2 Bob',
    ]);
    expect(put.status.code).toBe(0);
    expect(put.stdout).toMatch(
      /^\[Client\] PUT user:2 = Bob \[primary: 127\.0\.0\.1:\d+, replicas: \[.*\]\]$/m,
    );
    const get = await kvWithEnv(['--command', 'GET user:2'], {
      KV_COORDINATOR: coordinator,
      KV_SEEDS: seeds,
    });
    expect({ code: get.status.code, stdout: get.stdout }).toEqual({
      code: 0,
      stdout: '[Client] GET user:2 = Bob',
    });
    const old = await kvWithEnv(['get', 'user:1'], { KV_SEEDS: seeds });
    expect({ code: old.status.code, stdout: old.stdout }).toEqual({
      code: 0,
      stdout: '[Client] GET user:1 = Alice',
    });

    const status = await runKv([
      '--coordinator',
      coordinator,
      '--seeds',
      seeds,
      'status',
      '--sample',
      '0',
    ]);
    expect(status.status.code).toBe(0);
    const lines = status.stdout.split('\n');
    // The coordinator was refused a moment earlier (for the ring), so it may be backing off.
    const refused = `${escapeRegExp(coordinator)} \\(ECONNREFUSED(; backing off)?\\)`;
    const notCoordinators = cluster.nodes
      .map((n) => `${escapeRegExp(n.id)} \\(not a coordinator\\)`)
      .join(', ');
    expect(lines[0]).toMatch(
      new RegExp(`^Coordinator unreachable: ${refused}, ${notCoordinators}$`),
    );
    expect(lines[1]).toMatch(
      /^Ring epoch \d+ from 127\.0\.0\.1:\d+, 3 nodes \(3 reachable\), replication factor 3; node states are unknown without a coordinator$/,
    );
    for (const node of cluster.nodes)
      expect(status.stdout).toMatch(new RegExp(`^${escapeRegExp(node.id)} +unknown +`, 'm'));

    // The member list needs a coordinator: none of the seeds is one, and it says so.
    const nodes = await runKv(['--coordinator', coordinator, '--seeds', seeds, 'nodes']);
    expect(nodes.status.code).toBe(3);
    expect(nodes.stderr).toMatch(
      new RegExp(
        `^kv: cannot reach coordinator ${refused} or seeds ${notCoordinators}: is the cluster running\\?$`,
      ),
    );
  });

  it('says what it tried when no seed answers, and refuses a bad address', async () => {
    const [a, b] = [await freePort(), await freePort()];
    const none = await runKv(['--seeds', `${HOST}:${a},${HOST}:${b}`, '--command', 'GET k']);
    expect({ code: none.status.code, stderr: none.stderr }).toEqual({
      code: 3,
      stderr:
        `kv: cannot reach seeds ${HOST}:${a} (ECONNREFUSED), ${HOST}:${b} (ECONNREFUSED): ` +
        'is the cluster running?',
    });
    const bad = await kvWithEnv(['get', 'k'], { KV_SEEDS: `${HOST}:${a},nowhere` });
    expect({ code: bad.status.code, stderr: bad.stderr }).toEqual({
      code: 2,
      stderr: 'kv: KV_SEEDS must be host:port (e.g. 127.0.0.1:5000), got "nowhere"',
    });
  });
});
