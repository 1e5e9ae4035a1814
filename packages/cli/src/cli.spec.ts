import { closedPort, startTestCluster, type TestCluster } from './test-support/local-cluster';
import { linesOf, runKv, spawnKv, type KvRun } from './test-support/kv-binary';
import { CLEAR_SCREEN } from './status-watch';

// These tests run the built `kv` (dist/bin.js) as a user would, against servers started
// in this process.

const UNREACHABLE =
  /^kv: cannot reach coordinator at 127\.0\.0\.1:\d+ \(ECONNREFUSED\): is it running\?$/;

describe('kv without a cluster', () => {
  it('prints help listing every command, and exits 0', async () => {
    const { code, stdout } = await runKv(['--help']);
    expect(code).toBe(0);
    for (const command of [
      'put <key> <value..>',
      'get <key>',
      'delete <key>',
      'nodes',
      'status',
      'cluster',
      'coordinator',
      'node',
    ]) {
      expect(stdout).toContain(`kv ${command}`);
    }
    expect(stdout).toContain('Exit codes: 0 ok; 1 not found');
  });

  it('prints help of a subcommand and the version', async () => {
    const [put, version] = await Promise.all([runKv(['put', '--help']), runKv(['--version'])]);
    expect(put.code).toBe(0);
    expect(put.stdout).toContain('--ttl');
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('passes server commands through to the servers, --help included', async () => {
    const [node, coordinator, badPort] = await Promise.all([
      runKv(['node', '--help']),
      runKv(['coordinator', '--help']),
      runKv(['coordinator', '--port', '70000']),
    ]);
    expect(node.code).toBe(0);
    expect(node.stdout).toContain('kv node [options]');
    expect(node.stdout).toContain('--write-quorum');
    expect(coordinator.code).toBe(0);
    expect(coordinator.stdout).toContain('kv coordinator');
    expect(coordinator.stdout).toContain('--failure-timeout');
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toBe(
      'kv coordinator: --port must be an integer from 0 to 65535, got "70000"\n',
    );
  });

  describe('usage errors', () => {
    const cases: [string[], string][] = [
      [['frobnicate'], "kv: unknown command 'frobnicate' (see kv --help)"],
      [['get'], 'kv: missing arguments: usage kv get <key>'],
      [['put', 'k'], 'kv: missing arguments: usage kv put <key> <value> [--ttl seconds]'],
      [['get', 'k', '--bogus'], 'kv: Unknown argument: bogus (see kv --help)'],
      [
        ['put', 'k', 'v', '--ttl', '-1'],
        'kv: --ttl must be a number of seconds greater than 0, got "-1"',
      ],
      [
        ['put', 'k', 'v', '--ttl', 'soon'],
        'kv: --ttl must be a number of seconds greater than 0, got "soon"',
      ],
      [
        ['--coordinator', 'localhost', 'nodes'],
        'kv: --coordinator must be host:port (e.g. 127.0.0.1:5000), got "localhost"',
      ],
      [
        ['--command', 'FETCH k'],
        "kv: unknown command 'FETCH' (commands: PUT, GET, DELETE, LIST_NODES, HELP, EXIT)",
      ],
      [['--command', 'GET a b'], "kv: wrong number of arguments for 'GET': usage GET key"],
      [['status', '--sample', 'x'], 'kv: --sample must be an integer from 0 to 60000, got "x"'],
      [
        ['status', '--watch', '--interval', '5'],
        'kv: --interval must be an integer from 100 to 3600000, got "5"',
      ],
      [['cluster', '--nodes', '0'], 'kv: --nodes must be an integer from 1 to 64, got "0"'],
    ];
    // Independent processes: started together, checked one by one.
    let runs: Map<string[], KvRun>;
    beforeAll(async () => {
      const results = await Promise.all(cases.map(([args]) => runKv(args)));
      runs = new Map(cases.map(([args], i) => [args, results[i] as KvRun]));
    });

    it.each(cases)('exit 2 for %j', (args, message) => {
      expect(runs.get(args)).toEqual({ code: 2, signal: null, stdout: '', stderr: `${message}\n` });
    });
  });

  it('exits 3 with one line when the coordinator is not running', async () => {
    const port = await closedPort();
    const coordinator = `127.0.0.1:${port}`;
    const runs = await Promise.all([
      runKv(['--coordinator', coordinator, 'get', 'user:1']),
      runKv(['put', 'user:1', 'Alice'], { env: { KV_COORDINATOR: coordinator } }),
      runKv(['--coordinator', coordinator, 'nodes']),
      runKv(['--coordinator', coordinator, 'status']),
      runKv(['--coordinator', coordinator, '--command', 'DELETE user:1']),
    ]);
    for (const run of runs) {
      expect(run.code).toBe(3);
      expect(run.stdout).toBe('');
      expect(linesOf(run.stderr)).toEqual([expect.stringMatching(UNREACHABLE)]);
    }
  });

  it('with --json, also prints the error as a JSON document', async () => {
    const port = await closedPort();
    const { code, stdout, stderr } = await runKv([
      '--json',
      '--coordinator',
      `127.0.0.1:${port}`,
      'get',
      'k',
    ]);
    expect(code).toBe(3);
    expect(stderr.trimEnd()).toMatch(UNREACHABLE);
    expect(JSON.parse(stdout)).toEqual({
      error: {
        name: 'CoordinatorUnreachableError',
        message: expect.stringMatching(/^cannot reach coordinator/),
        exitCode: 3,
      },
    });
    const usage = await runKv(['--json', 'get']);
    expect(usage.code).toBe(2);
    expect(JSON.parse(usage.stdout)).toMatchObject({ error: { name: 'UsageError', exitCode: 2 } });
  });

  it('runs HELP without a cluster', async () => {
    const { code, stdout } = await runKv(['--command', 'help']);
    expect(code).toBe(0);
    expect(linesOf(stdout)[0]).toBe('Commands:');
  });
});

describe('kv against a cluster', () => {
  let cluster: TestCluster;
  let kv: (args: string[], input?: string) => ReturnType<typeof runKv>;

  beforeEach(async () => {
    cluster = await startTestCluster(3);
    kv = (args, input) => runKv(['--coordinator', cluster.address, ...args], { input });
  });
  afterEach(async () => {
    await cluster.close();
  });

  const nodeIds = (): string[] => cluster.nodes.map((n) => n.id).sort();

  it('puts, gets and deletes with the subcommands, exiting 0 or 1', async () => {
    const put = await kv(['put', 'user:1', 'Alice', 'Smith']);
    expect(put.code).toBe(0);
    expect(put.stderr).toBe('');
    const [line] = linesOf(put.stdout);
    const match =
      /^\[Client\] PUT user:1 = Alice Smith \[primary: (\S+), replicas: \[(\S+), (\S+)\]\]$/.exec(
        line ?? '',
      );
    expect(match).not.toBeNull();
    expect([match?.[1], match?.[2], match?.[3]].sort()).toEqual(nodeIds());

    expect(await kv(['get', 'user:1'])).toMatchObject({
      code: 0,
      stdout: '[Client] GET user:1 = Alice Smith\n',
    });
    expect(await kv(['delete', 'user:1'])).toMatchObject({
      code: 0,
      stdout: `[Client] DELETE user:1 [primary: ${match?.[1]}]\n`,
    });
    const [get, del] = await Promise.all([kv(['get', 'user:1']), kv(['del', 'user:1'])]);
    expect(get).toMatchObject({ code: 1, stdout: '[Client] GET user:1 not found\n', stderr: '' });
    expect(del).toMatchObject({
      code: 1,
      stdout: `[Client] DELETE user:1 not found [primary: ${match?.[1]}]\n`,
    });
  });

  it('runs one shell line with --command, in the shell grammar', async () => {
    const put = await kv(['--command', 'PUT cache:1 {"user_id": 456, "ttl": 3600}']);
    expect(put.code).toBe(0);
    expect(put.stdout).toMatch(
      /^\[Client\] PUT cache:1 = \{"user_id": 456, "ttl": 3600\} \[primary: /,
    );
    const [get, quoted, missing] = await Promise.all([
      kv(['-c', 'get cache:1']),
      kv(['--command', 'PUT "a key" "  two\\nlines"']),
      kv(['--command', 'GET nothing-here']),
    ]);
    expect(get.stdout).toBe('[Client] GET cache:1 = {"user_id": 456, "ttl": 3600}\n');
    expect(quoted.stdout.startsWith('[Client] PUT "a key" = "  two\\nlines" [primary: ')).toBe(
      true,
    );
    expect(missing).toMatchObject({ code: 1, stdout: '[Client] GET nothing-here not found\n' });
    expect((await kv(['get', 'a key'])).stdout).toBe('[Client] GET "a key" = "  two\\nlines"\n');
  });

  it('prints one JSON document with --json', async () => {
    const put = await kv(['--json', 'put', 'k', 'v', '--ttl', '60']);
    expect(put.code).toBe(0);
    const doc = JSON.parse(put.stdout) as { primary: string; replicas: string[] };
    expect(doc).toMatchObject({ command: 'PUT', key: 'k', value: 'v', ttlMs: 60_000 });
    expect([doc.primary, ...doc.replicas].sort()).toEqual(nodeIds());

    const [get, missing, nodes] = await Promise.all([
      kv(['get', 'k', '--json']),
      kv(['--json', 'get', 'none']),
      kv(['--json', 'nodes']),
    ]);
    expect(JSON.parse(get.stdout)).toEqual({
      command: 'GET',
      key: 'k',
      found: true,
      value: 'v',
      node: doc.primary,
      primary: doc.primary,
      fromReplica: false,
    });
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stdout)).toMatchObject({ found: false, value: null });
    const listed = JSON.parse(nodes.stdout) as { nodes: { id: string; state: string }[] };
    expect(listed.nodes.map((n) => n.id)).toEqual(nodeIds());
    expect(listed.nodes.every((n) => n.state === 'up')).toBe(true);
  });

  it('lists the nodes as the spec does', async () => {
    const [nodes, listNodes] = await Promise.all([kv(['nodes']), kv(['-c', 'LIST_NODES'])]);
    const expected = ['OK Nodes:', ...nodeIds().map((id) => `  ${id}  up`)];
    expect(linesOf(nodes.stdout)).toEqual(expected);
    expect(linesOf(listNodes.stdout)).toEqual(expected);
  });

  it('maps the server refusing a request to exit code 2', async () => {
    const { code, stderr } = await kv(['put', 'k'.repeat(5000), 'v']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^kv: TOOLARGE /);
  });

  it('says when the primary failed and a replica answered', async () => {
    const put = await kv(['--json', 'put', 'user:1', 'Alice']);
    const { primary } = JSON.parse(put.stdout) as { primary: string };
    const node = cluster.nodes.find((n) => n.id === primary);
    await node?.close({ leave: false });

    const get = await kv(['get', 'user:1']);
    expect(get.code).toBe(0);
    const lines = linesOf(get.stdout);
    expect(lines[0]).toBe('[Client] Primary node failed, trying replicas...');
    expect(lines[1]).toMatch(/^\[Client\] GET user:1 = Alice \(from replica 127\.0\.0\.1:\d+\)$/);
    expect(lines[1]).not.toContain(primary);
    expect(lines).toHaveLength(2);
  });

  it('shows the status of every node, unreachable ones included', async () => {
    await kv(['put', 'k', 'v']);
    const down = cluster.nodes[2];
    await down?.close({ leave: false });

    const table = await kv(['status', '--sample', '50']);
    expect(table.code).toBe(0);
    const lines = linesOf(table.stdout);
    expect(lines[0]).toBe(
      `Coordinator ${cluster.address}, ring epoch ${cluster.coordinator.epoch}, 3 nodes (2 reachable), replication factor 3`,
    );
    expect(lines[1]).toMatch(
      /^ADDRESS\s+STATE\s+ZONE\s+KEYS\s+OPS\/S\s+PRIMARY\s+REPLICA\s+EPOCH\s+SYNC$/,
    );
    expect(lines).toHaveLength(5);
    const row = (id: string | undefined) => lines.find((l) => l.startsWith(`${id} `)) ?? '';
    expect(row(down?.id)).toMatch(/^\S+\s+unreachable\s+-\s+-\s+-\s+\d+\.\d%\s+100\.0%\s+-\s+-$/);
    // The live nodes' sync rounds cannot complete with the stopped one: it shows as a peer
    // not synced, once they tried to reach it.
    for (const node of cluster.nodes.slice(0, 2)) {
      expect(row(node.id)).toMatch(
        /^\S+\s+up\s+-\s+1\s+\d+(\.\d)?\s+\d+\.\d%\s+100\.0%\s+\d+\s+ok(, 1 peer)?(, \d+ hints?)?$/,
      );
    }

    const json = await kv(['status', '--json', '--sample', '0']);
    const status = JSON.parse(json.stdout) as {
      epoch: number;
      nodes: { address: string; reachable: boolean; keys: number | null; primaryShare: number }[];
    };
    expect(status.epoch).toBe(cluster.coordinator.epoch);
    expect(status.nodes.map((n) => n.address)).toEqual(nodeIds());
    expect(status.nodes.find((n) => n.address === down?.id)).toMatchObject({
      reachable: false,
      keys: null,
    });
    expect(status.nodes.reduce((sum, n) => sum + n.primaryShare, 0)).toBeCloseTo(1, 6);
  });

  it('watches the status like top, redrawing until Ctrl-C', async () => {
    const child = spawnKv([
      '--coordinator',
      cluster.address,
      'status',
      '--watch',
      '--interval',
      '100',
      '--sample',
      '0',
    ]);
    let stdout = '';
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    const twoScreens = new Promise<void>((resolve) => {
      child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
        if (stdout.split(CLEAR_SCREEN).length > 3) resolve();
      });
    });
    await twoScreens;
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    const screens = stdout.split(CLEAR_SCREEN).slice(1, 3);
    for (const screen of screens) {
      const lines = linesOf(screen);
      expect(lines[0]).toMatch(/^kv status at \d\d:\d\d:\d\d UTC, every 0\.1 s; Ctrl-C to stop$/);
      expect(lines[2]).toMatch(
        new RegExp(`^Coordinator ${cluster.address}, ring epoch \\d+, 3 nodes`),
      );
      expect(lines[3]).toMatch(/^ADDRESS\s+STATE/);
    }
  });

  it('decommissions a node: it hands off, leaves the ring and stops', async () => {
    await kv(['put', 'k', 'v']);
    const retiring = cluster.nodes[0];
    const done = await kv(['decommission', retiring?.id ?? '']);
    expect(done).toMatchObject({
      code: 0,
      stdout: `[Client] DECOMMISSION ${retiring?.id}: OK leaving: handing off data, then stopping\n`,
    });
    await retiring?.closed;
    expect(await kv(['get', 'k'])).toMatchObject({ code: 0, stdout: '[Client] GET k = v\n' });
    expect((await kv(['decommission', 'nowhere'])).code).toBe(2);
    expect(await kv(['decommission', retiring?.id ?? ''])).toMatchObject({ code: 3 });
  });

  it('asks a node for a backup, and says why a node in memory has none to give', async () => {
    const node = cluster.nodes[1]?.id ?? '';
    const refused = await kv(['backup', '--node', node, 'some-dir']);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain(
      'this node keeps its records in memory (started without --data-dir): there is nothing to back up',
    );
    expect(await kv(['backup', '--node', 'nowhere', 'some-dir'])).toMatchObject({
      code: 2,
      stderr: "kv: backup needs --node host:port, got 'nowhere'\n",
    });
    expect((await kv(['backup', 'some-dir'])).stderr).toContain('node');
  });
});
