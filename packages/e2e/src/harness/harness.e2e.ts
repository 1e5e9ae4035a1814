import { Cluster } from './cluster';
import { ephemeralStart, freePortRange } from './free-port';
import { ManagedProcess } from './managed-process';
import { stopAll } from './process-registry';
import { descendantsOf, isAlive, pidFile, readPidRecords, survivors } from './pid-registry';
import { waitFor } from './wait';
import { nodeLog } from './log-lines';
import { memberIds, send, text } from './resp';

function expectGone(pid: number): void {
  let code: string | undefined;
  try {
    process.kill(pid, 0);
  } catch (err) {
    code = (err as NodeJS.ErrnoException).code;
  }
  expect({ pid, code }).toEqual({ pid, code: 'ESRCH' });
}

describe('harness', () => {
  it('starts a cluster whose members, pids and output it knows, and stops all of it', async () => {
    const cluster = await Cluster.start({ nodes: 3 });
    const pids = [cluster.coordinator, ...cluster.nodes.map((n) => n.process)].map(
      (p) => p.pid as number,
    );
    expect(await memberIds(cluster.coordinatorPort)).toEqual(cluster.nodes.map((n) => n.id).sort());
    const recorded = readPidRecords(pidFile()).map((r) => r.pid);
    expect(recorded).toEqual(expect.arrayContaining(pids));
    expect(cluster.node(0).process.output()).toContain(`Started on ${cluster.node(0).id}`);

    await stopAll();
    for (const pid of pids) expectGone(pid);
  });

  it('restarts a node on the same port with the same arguments, and it rejoins', async () => {
    const cluster = await Cluster.start({ nodes: 2 });
    const node = cluster.node(1);
    const firstPid = node.process.pid;
    const from = node.process.mark;
    await node.process.kill();
    node.process.start();
    expect(node.process.pid).not.toBe(firstPid);
    expect(node.process.spec.args).toContain(String(node.port));
    await node.process.waitForLine(nodeLog.started(node.id), 10_000, from);
    await cluster.waitForMembers(
      cluster.nodes.map((n) => n.id),
      10_000,
    );
    expect(text(await send(node.port, ['PING']))).toBe('PONG');
  });

  it('finds a run of consecutive free ports below the ports outgoing connections take', async () => {
    const base = await freePortRange(4);
    expect(base).toBeGreaterThan(1024);
    expect(base + 80 + 3).toBeLessThan(ephemeralStart());
  });

  it('tells a recorded live process from a dead one', async () => {
    const sleeper = ManagedProcess.start({ name: 'sleeper', command: 'sleep', args: ['60'] });
    const records = readPidRecords().filter((r) => r.pid === sleeper.pid);
    expect(records).toHaveLength(1);
    expect(survivors(records)).toEqual(records);
    await sleeper.kill();
    expect(isAlive(sleeper.pid as number)).toBe(false);
    expect(survivors(records)).toEqual([]);
  });

  it('kills what a process started in a session of its own along with it', async () => {
    const parent = ManagedProcess.start({
      name: 'parent',
      command: 'sh',
      args: ['-c', 'setsid sleep 60 & echo started; wait'],
    });
    await parent.waitForLine(/^started$/, 5000);
    const children = await waitFor(
      'the child to start',
      () => {
        const found = descendantsOf(parent.pid as number);
        return found.length > 0 ? found : undefined;
      },
      { timeoutMs: 5000 },
    );
    await parent.kill();
    expectGone(parent.pid as number);
    await waitFor(
      'the child to be gone',
      () => (children.every((pid) => !isAlive(pid)) ? true : undefined),
      { timeoutMs: 5000 },
    );
  });

  it('stops paused processes too', async () => {
    const sleeper = ManagedProcess.start({ name: 'sleeper', command: 'sleep', args: ['60'] });
    sleeper.pause();
    await stopAll();
    expect(sleeper.exitStatus).toEqual({ code: null, signal: 'SIGKILL' });
    expectGone(sleeper.pid as number);
  });
});
