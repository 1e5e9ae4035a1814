import type { ChildProcess } from 'node:child_process';
import { statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tryListen } from './ports';
import { freePortRange } from './test-support/free-ports';
import { linesOf, runKv, spawnKv, testSecretFile } from './test-support/kv-binary';
import { waitFor } from './test-support/wait-for';

// `kv cluster` run as a real process, as a user runs it, with its children real processes.

interface Running {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startCluster(args: string[]): Running {
  const child = spawnKv(['cluster', ...args]);
  const running: Running = {
    child,
    stdout: '',
    stderr: '',
    exited: new Promise((resolve) =>
      child.once('close', (code, signal) => resolve({ code, signal })),
    ),
  };
  child.stdout?.setEncoding('utf8').on('data', (c: string) => (running.stdout += c));
  child.stderr?.setEncoding('utf8').on('data', (c: string) => (running.stderr += c));
  return running;
}

/** Until the cluster says it is ready; if it does not, the error carries what it wrote. */
function untilReady(cluster: Running): Promise<void> {
  return waitFor(
    () => cluster.stdout.includes('[Cluster] Ready'),
    () => `the ready line; its output so far:\n${cluster.stdout}${cluster.stderr}`,
    30_000,
  );
}

/** Pids of the processes the cluster says it started, by label (`node 127.0.0.1:5001`). */
function startedPids(stdout: string): Map<string, number> {
  const pids = new Map<string, number>();
  for (const match of stdout.matchAll(/^\[Cluster\] Started (.+) \(pid (\d+)\)$/gm)) {
    pids.set(match[1] as string, Number(match[2]));
  }
  return pids;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    expect((err as NodeJS.ErrnoException).code).toBe('ESRCH');
    return false;
  }
}

// Each test runs whole clusters of real processes, and waits up to 30 s for one to be ready.
jest.setTimeout(90_000);

describe('kv cluster', () => {
  let running: Running | undefined;
  let blocker: Server | undefined;

  afterEach(async () => {
    // Whatever a failed test left behind goes.
    if (running) {
      for (const pid of startedPids(running.stdout).values()) {
        if (isRunning(pid)) process.kill(pid, 'SIGKILL');
      }
      if (running.child.exitCode === null && running.child.signalCode === null) {
        running.child.kill('SIGKILL');
      }
      await running.exited;
      running = undefined;
    }
    await new Promise<void>((resolve) => (blocker ? blocker.close(() => resolve()) : resolve()));
    blocker = undefined;
  });

  it('starts a coordinator and nodes, serves other kv processes, and stops all on SIGTERM', async () => {
    const base = await freePortRange(4);
    running = startCluster(['--nodes', '3', '--base-port', String(base)]);
    const cluster = running;
    await untilReady(cluster);

    const lines = linesOf(cluster.stdout);
    const nodes = [1, 2, 3].map((i) => `127.0.0.1:${base + i}`);
    expect(lines).toContain(
      `[Cluster] Ready: coordinator 127.0.0.1:${base}, 3 nodes ${nodes.join(', ')}, write quorum 2`,
    );
    expect(lines).toContain(
      `[Cluster] Connect with: kv --coordinator 127.0.0.1:${base}  ` +
        `(or: npx kv --coordinator 127.0.0.1:${base} --command "PUT user:1 Alice")`,
    );
    expect(lines).toContain(
      `[Cluster] Dashboard: http://127.0.0.1:${base + 80}/  (Prometheus metrics at /metrics ` +
        `there and on each node's port + 80)`,
    );
    const page = await fetch(`http://127.0.0.1:${base + 80}/`);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toContain('<title>kv cluster</title>');
    const nodeMetrics = await (await fetch(`http://127.0.0.1:${base + 81}/metrics`)).text();
    expect(nodeMetrics).toMatch(/^kv_ring_members 3$/m);
    expect(lines).toContain(`[Coordinator] Started on 127.0.0.1:${base}`);
    expect(lines).toContain(`[Node ${base + 1}] Started on 127.0.0.1:${base + 1}`);
    const pids = startedPids(cluster.stdout);
    expect([...pids.keys()]).toEqual([
      `coordinator 127.0.0.1:${base}`,
      ...nodes.map((n) => `node ${n}`),
    ]);

    const coordinator = ['--coordinator', `127.0.0.1:${base}`];
    const put = await runKv([...coordinator, 'put', 'user:1', 'Alice']);
    expect(put.code).toBe(0);
    expect(put.stdout).toMatch(
      /^\[Client\] PUT user:1 = Alice \[primary: 127\.0\.0\.1:\d+, replicas: \[/,
    );
    const get = await runKv([...coordinator, '--command', 'GET user:1']);
    // From a replica when the dead node was the key's primary.
    expect(get.code).toBe(0);
    expect(get.stdout).toMatch(/^\[Client\] GET user:1 = Alice( \(from replica [\d.:]+\))?$/m);

    cluster.child.kill('SIGTERM');
    expect(await cluster.exited).toEqual({ code: 0, signal: null });
    expect(linesOf(cluster.stdout).slice(-1)).toEqual(['[Cluster] Stopped']);
    for (const pid of pids.values()) expect(isRunning(pid)).toBe(false);
    // Every line is whole and tagged with the process it came from.
    for (const line of linesOf(cluster.stdout)) {
      expect(line).toMatch(/^\[(Cluster|Coordinator|Node \d+)\] /);
    }
    expect(await tryListen(base)).toBeUndefined();
  });

  it('with --tls, makes a development CA and runs every process with TLS', async () => {
    const base = await freePortRange(3);
    const dataDir = await mkdtemp(join(tmpdir(), 'kv-cluster-spec-'));
    try {
      running = startCluster([
        '--nodes',
        '2',
        '--base-port',
        String(base),
        '--tls',
        '--data-dir',
        dataDir,
      ]);
      const cluster = running;
      await untilReady(cluster);
      const ca = join(dataDir, 'tls', 'ca.pem');
      const lines = linesOf(cluster.stdout);
      expect(lines).toContain(
        `[Cluster] TLS: made a development CA and certificates in ${join(dataDir, 'tls')}`,
      );
      expect(lines).toContain(`[Coordinator] Started on 127.0.0.1:${base} (TLS)`);
      expect(lines).toContain(`[Node ${base + 1}] Started on 127.0.0.1:${base + 1} (TLS)`);
      // The dashboard is served over HTTPS only, so the URL printed says so.
      expect(
        lines.some((l) => l.startsWith(`[Cluster] Dashboard: https://127.0.0.1:${base + 80}/`)),
      ).toBe(true);
      expect(lines).toContain(
        `[Cluster] Connect with: kv --coordinator 127.0.0.1:${base} --tls-ca ${ca}  ` +
          `(or: npx kv --coordinator 127.0.0.1:${base} --tls-ca ${ca} --command "PUT user:1 Alice")`,
      );
      for (const key of ['ca.key', 'member.key', 'client.key'])
        expect(statSync(join(dataDir, 'tls', key)).mode & 0o777).toBe(0o600);

      const coordinator = ['--coordinator', `127.0.0.1:${base}`];
      const put = await runKv([...coordinator, '--tls-ca', ca, 'put', 'k', 'v']);
      expect(put).toMatchObject({ code: 0, stderr: '' });
      const status = await runKv([...coordinator, 'status', '--sample', '0'], {
        env: { KV_TLS_CA: ca },
      });
      expect(status).toMatchObject({ stderr: '', code: 0 });
      expect(status.stdout).toContain(`127.0.0.1:${base + 2}`);
      const plain = await runKv([...coordinator, 'get', 'k']);
      expect(plain.code).toBe(3);
      expect(plain.stderr).toBe(
        `kv: cannot reach coordinator at 127.0.0.1:${base} (connection to 127.0.0.1:${base} closed by the server before any reply (a server that speaks TLS closes plain connections like this: connect with TLS))\n`,
      );
      const missing = await runKv([
        ...coordinator,
        '--tls-ca',
        join(dataDir, 'nope.pem'),
        'get',
        'k',
      ]);
      expect(missing).toMatchObject({
        code: 2,
        stderr: `kv: cannot read --tls-ca ${join(dataDir, 'nope.pem')} (ENOENT)\n`,
      });

      cluster.child.kill('SIGTERM');
      expect(await cluster.exited).toEqual({ code: 0, signal: null });
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('runs a single node with write quorum 1', async () => {
    const base = await freePortRange(2);
    running = startCluster(['--nodes', '1', '--base-port', String(base)]);
    const cluster = running;
    await untilReady(cluster);
    expect(cluster.stdout).toContain(`node 127.0.0.1:${base + 1}, write quorum 1`);
    const put = await runKv(['--coordinator', `127.0.0.1:${base}`, 'put', 'k', 'v']);
    expect(put).toMatchObject({ code: 0, stderr: '' });
    cluster.child.kill('SIGINT');
    expect(await cluster.exited).toEqual({ code: 0, signal: null });
  });

  it('runs its processes with a secret file (0600) that status and decommission find', async () => {
    const base = await freePortRange(3);
    running = startCluster(['--nodes', '2', '--base-port', String(base)]);
    const cluster = running;
    await untilReady(cluster);
    const file = testSecretFile();
    expect(cluster.stdout).toContain(`[Cluster] Members authenticate with the secret in ${file}`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const coordinator = ['--coordinator', `127.0.0.1:${base}`];
    const node = `127.0.0.1:${base + 2}`;
    const status = await runKv([...coordinator, 'status', '--sample', '0']);
    expect(status).toMatchObject({ code: 0, stderr: '' });

    const elsewhere = { KV_CLUSTER_SECRET_FILE: `${file}.missing` };
    const anonymous = await runKv([...coordinator, 'decommission', node], { env: elsewhere });
    expect(anonymous.code).toBe(4);
    expect(anonymous.stderr).toMatch(/NOAUTH 'DECOMMISSION' is for cluster members/);
    const wrong = await runKv([...coordinator, 'decommission', node], {
      env: { ...elsewhere, KV_CLUSTER_SECRET: 'a wrong secret that is long enough' },
    });
    expect(wrong.code).toBe(4);
    expect(wrong.stderr).toMatch(/authentication to 127\.0\.0\.1:\d+ failed: NOAUTH member proof/);

    const done = await runKv([...coordinator, 'decommission', node]);
    expect(done).toMatchObject({ code: 0, stderr: '' });
    expect(done.stdout).toContain(`DECOMMISSION ${node}: OK leaving`);
    // The node leaves and exits 0; the cluster says so and goes on with the other node.
    await waitFor(
      () =>
        cluster.stdout.includes(
          `[Cluster] node ${node} stopped (exit code 0); the other processes keep running`,
        ),
      'the stopped line',
      30_000,
    );
    const left = await runKv([...coordinator, 'nodes']);
    expect(left).toMatchObject({ code: 0, stdout: `OK Nodes:\n  127.0.0.1:${base + 1}  up\n` });
    cluster.child.kill('SIGTERM');
    expect(await cluster.exited).toEqual({ code: 0, signal: null });
  });

  it('reports a node that died, keeps serving, and restarts it as itself on SIGUSR2', async () => {
    const base = await freePortRange(4);
    running = startCluster(['--nodes', '3', '--base-port', String(base)]);
    const cluster = running;
    await untilReady(cluster);
    expect(cluster.stdout).toContain(
      `restart dead ones with: kill -USR2 ${cluster.child.pid as number}`,
    );
    const coordinator = ['--coordinator', `127.0.0.1:${base}`];
    expect(await runKv([...coordinator, 'put', 'user:1', 'Alice'])).toMatchObject({ code: 0 });
    const victim = `node 127.0.0.1:${base + 2}`;
    process.kill(startedPids(cluster.stdout).get(victim) as number, 'SIGKILL');

    await waitFor(
      () => cluster.stdout.includes(`[Cluster] ${victim} exited unexpectedly (signal SIGKILL)`),
      'the death report',
      10_000,
    );
    // The hint is a line of its own, which may reach the pipe a moment later.
    await waitFor(
      () =>
        cluster.stdout.includes(
          `[Cluster] Restart it with: kill -USR2 ${cluster.child.pid as number}`,
        ),
      'the restart hint',
      10_000,
    );
    const get = await runKv([...coordinator, 'get', 'user:1']);
    // From a replica when the dead node was the key's primary.
    expect(get.code).toBe(0);
    expect(get.stdout).toMatch(/^\[Client\] GET user:1 = Alice( \(from replica [\d.:]+\))?$/m);

    cluster.child.kill('SIGUSR2');
    await waitFor(
      () => /\[Cluster\] Restarted node .* \(pid \d+\)/.test(cluster.stdout),
      'restart',
      10_000,
    );
    await waitFor(
      () => cluster.stdout.includes(`[Cluster] ${victim} serves again`),
      'the node to serve again',
      30_000,
    );
    const restartedPid = Number(
      /\[Cluster\] Restarted node [\d.:]+ \(pid (\d+)\)/.exec(cluster.stdout)?.[1],
    );
    expect(isRunning(restartedPid)).toBe(true);
    cluster.child.kill('SIGUSR2');
    await waitFor(
      () => cluster.stdout.includes('[Cluster] Every process is running: nothing to restart'),
      'the nothing-to-restart line',
      10_000,
    );

    cluster.child.kill('SIGTERM');
    expect(await cluster.exited).toEqual({ code: 0, signal: null });
    expect(isRunning(restartedPid)).toBe(false);
    for (const pid of startedPids(cluster.stdout).values()) expect(isRunning(pid)).toBe(false);
  });

  it('with --restart-dead, restarts a node that died by itself', async () => {
    const base = await freePortRange(3);
    running = startCluster(['--nodes', '2', '--base-port', String(base), '--restart-dead']);
    const cluster = running;
    await untilReady(cluster);
    const victim = `node 127.0.0.1:${base + 1}`;
    process.kill(startedPids(cluster.stdout).get(victim) as number, 'SIGKILL');
    await waitFor(
      () => cluster.stdout.includes(`[Cluster] ${victim} serves again`),
      'the node to serve again',
      30_000,
    );
    const lines = linesOf(cluster.stdout);
    expect(lines).toContain(`[Cluster] Restarting ${victim} in 1000 ms`);
    expect(lines.some((l) => l.startsWith(`[Cluster] Restarted ${victim} (pid `))).toBe(true);
    cluster.child.kill('SIGTERM');
    expect(await cluster.exited).toEqual({ code: 0, signal: null });
  });

  it('fails the start, naming the process, when one dies while starting', async () => {
    const base = await freePortRange(3);
    // Nodes read KV_MAX_MEMORY and refuse this one; the coordinator has no such setting.
    const { code, stderr } = await runKv(['cluster', '--nodes', '2', '--base-port', String(base)], {
      env: { KV_MAX_MEMORY: 'plenty' },
    });
    expect(code).toBe(4);
    expect(stderr).toMatch(/^kv: node 127\.0\.0\.1:\d+ exited unexpectedly \(exit code \d+\)/m);
    for (const port of [base, base + 1, base + 2]) expect(await tryListen(port)).toBeUndefined();
  });

  it('refuses flags it does not take', async () => {
    const { code, stderr } = await runKv(['cluster', '--coordinator', '127.0.0.1:1']);
    expect(code).toBe(2);
    expect(stderr).toBe(
      'kv: kv cluster does not take --coordinator: it runs its own coordinator on --base-port, ' +
        'gives its processes their secret and certificates, and prints its own lines\n',
    );
  });

  it('refuses to start when a port is taken, leaving nothing running', async () => {
    const base = await freePortRange(4);
    const server = createServer();
    blocker = server;
    await new Promise<void>((resolve) => server.listen(base + 2, '127.0.0.1', resolve));

    const { code, stdout, stderr } = await runKv([
      'cluster',
      '--nodes',
      '3',
      '--base-port',
      String(base),
    ]);
    expect(code).toBe(4);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      `kv: port ${base + 2} is already in use: stop what uses it or choose another --base-port\n`,
    );
    for (const port of [base, base + 1, base + 3]) expect(await tryListen(port)).toBeUndefined();
  });
});
