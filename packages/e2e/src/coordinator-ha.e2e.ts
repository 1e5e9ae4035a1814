import { Cluster } from './harness/cluster';
import { addressOf } from './harness/endpoint';
import { startEtcd, type EtcdServer } from './harness/etcd';
import { checkHistories, checkFinalValue, type Violation } from './harness/history-checker';
import { HistoryRecorder } from './harness/history-recorder';
import { coordinatorLog } from './harness/log-lines';
import { MARGIN_MS } from './harness/margin';
import { perform } from './harness/operation';
import { listNodes, ringOf, send, text } from './harness/resp';
import { seededRandom } from './harness/seeded-random';
import { sleep, waitFor } from './harness/wait';
import { PinnedTarget } from './harness/workload-targets';

const LEASE_TTL_S = 2;
const LEASE_TTL_MS = LEASE_TTL_S * 1000;
const FAILURE_TIMEOUT_MS = 2000;
const KEYS = 100;
const SEED = Number(process.env['E2E_WORKLOAD_SEED'] ?? Date.now() % 1_000_000);

let etcd: EtcdServer;

beforeAll(async () => {
  etcd = await startEtcd();
});

afterAll(async () => {
  await etcd?.stop();
});

/** Three coordinators sharing etcd under `prefix`, and three nodes reaching them all. */
function startCluster(prefix: string): Promise<Cluster> {
  return Cluster.start({
    nodes: 3,
    coordinators: 3,
    coordinatorArgs: ['--store', etcd.store(prefix), '--lease-ttl', String(LEASE_TTL_S)],
    failureTimeoutMs: FAILURE_TIMEOUT_MS,
    replicaTimeoutMs: 2000,
  });
}

/** The `key:value` fields of a server's INFO. */
async function info(cluster: Cluster, coordinator: number): Promise<Record<string, string>> {
  const reply = text(await send(cluster.coordinatorEndpoints[coordinator]!, ['INFO'])) ?? '';
  return Object.fromEntries(
    reply
      .split('\r\n')
      .filter((line) => line.includes(':'))
      .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1)]),
  );
}

/** Waits until exactly one of the running coordinators but `except` says it leads. */
function leaderOf(cluster: Cluster, timeoutMs: number, except?: number): Promise<number> {
  return waitFor(
    () => `one coordinator leading\n${cluster.logs(20)}`,
    async () => {
      const roles = await Promise.all(
        cluster.coordinators.map(async (c, i) =>
          c.running && i !== except ? (await info(cluster, i))['role'] : undefined,
        ),
      );
      const leaders = roles.flatMap((role, i) => (role === 'leader' ? [i] : []));
      return leaders.length === 1 ? leaders[0] : undefined;
    },
    { timeoutMs, intervalMs: 25 },
  );
}

/** Starts a node that knows only coordinator `index`; waits until the leader lists it `up`. */
async function joinThrough(cluster: Cluster, index: number): Promise<void> {
  const joiner = await cluster.startNode([], [cluster.coordinatorEndpoints[index]!]);
  await waitFor(
    () => `${joiner.id} up at the leader\n${cluster.logs(20)}`,
    async () =>
      (await listNodes(cluster.coordinatorEndpoint)).some(
        (row) => row.id === joiner.id && row.state === 'up',
      ) || undefined,
    { timeoutMs: 60_000, intervalMs: 100 },
  );
}

/**
 * Samples the ring epoch of every running coordinator and node every 100 ms and notes any
 * that goes back.
 */
class EpochWatch {
  readonly regressions: string[] = [];
  private readonly last = new Map<string, number>();
  private running = true;
  private readonly done: Promise<void>;

  constructor(private readonly cluster: Cluster) {
    this.done = this.loop();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const sources = [
        ...this.cluster.coordinators.map((p, i) => ({
          name: `coordinator ${addressOf(this.cluster.coordinatorEndpoints[i]!)}`,
          process: p,
          endpoint: this.cluster.coordinatorEndpoints[i]!,
        })),
        ...this.cluster.nodes.map((n) => ({
          name: `node ${n.id}`,
          process: n.process,
          endpoint: n.endpoint,
        })),
      ];
      await Promise.all(
        sources.map(async ({ name, process, endpoint }) => {
          if (!process.running) return;
          const epoch = await ringOf(endpoint).then(
            (ring) => ring.epoch,
            () => undefined,
          );
          if (epoch === undefined) return;
          const before = this.last.get(name) ?? -1;
          if (epoch < before) this.regressions.push(`${name}: epoch ${before} then ${epoch}`);
          this.last.set(name, Math.max(before, epoch));
        }),
      );
      await sleep(100);
    }
  }
}

/** Clients pinned to the nodes, writing and reading until stopped, recorded for the checker. */
class Workload {
  readonly recorder = new HistoryRecorder();
  readonly origin = performance.now();
  private running = true;
  private readonly done: Promise<void>;
  acknowledged = 0;

  constructor(cluster: Cluster, clients: number) {
    const targets = Array.from(
      { length: clients },
      (_, i) => new PinnedTarget(`c${i}`, cluster, cluster.node(i % cluster.nodes.length)),
    );
    this.done = Promise.all(
      targets.map(async (target, i) => {
        const random = seededRandom(SEED * 31 + i);
        for (let op = 0; this.running; op++) {
          const key = `key:${Math.floor(random() * KEYS)}`;
          const roll = random();
          const kind = roll < 0.5 ? 'put' : roll < 0.6 ? 'delete' : 'get';
          const { outcome } = await perform(target, this.recorder, {
            kind,
            key,
            op: `c${i}-op${op}`,
          });
          if (outcome === 'ok' && kind !== 'get') this.acknowledged++;
        }
        await target.close();
      }),
    ).then(() => undefined);
  }

  /** Stops the clients; then checks every key read through `reader` with R=2. */
  async stopAndCheck(reader: { port: number }): Promise<string> {
    this.running = false;
    await this.done;
    const histories = this.recorder.histories();
    const finals = new Map<string, string | null>();
    const violations: Violation[] = [];
    for (const history of histories) {
      const value = text(await send(reader.port, ['GET', history.key, 'R', '2']));
      finals.set(history.key, value);
      const violation = checkFinalValue(history, value, this.origin);
      if (violation) violations.push(violation);
    }
    violations.push(...checkHistories(histories, finals, this.origin));
    if (violations.length === 0) return 'ok';
    return [
      `${violations.length} violation(s) (seed ${SEED}; writes ${JSON.stringify(this.recorder.outcomes())}):`,
      ...violations.slice(0, 3).map((v) => v.message),
    ].join('\n\n');
  }
}

describe('coordinators in high availability on etcd', () => {
  it('SIGKILL the leader: another leads within 2x the lease TTL, decides deaths, takes joins through a follower; no epoch goes back, no acknowledged write is lost', async () => {
    const cluster = await startCluster('kill');
    const epochs = new EpochWatch(cluster);
    const workload = new Workload(cluster, 6);
    const first = await leaderOf(cluster, 2 * LEASE_TTL_MS);
    await sleep(500);

    const killedAt = performance.now();
    await cluster.coordinators[first]!.kill();
    const next = await leaderOf(cluster, 2 * LEASE_TTL_MS, first);
    process.stdout.write(
      `coordinator failover: ${Math.round(performance.now() - killedAt)} ms from SIGKILL to a new leader (lease TTL ${LEASE_TTL_MS} ms)\n`,
    );
    cluster.askCoordinator(next);
    const leader = cluster.coordinators[next]!;
    const follower = [0, 1, 2].find((i) => i !== first && i !== next) as number;

    // A node killed afterwards is declared dead by the new leader, and by nobody else.
    const from = leader.mark;
    const victim = cluster.node(2);
    await victim.process.kill();
    await leader.waitForLine(
      coordinatorLog.dead(victim.id),
      LEASE_TTL_MS + FAILURE_TIMEOUT_MS + MARGIN_MS,
      from,
    );
    expect(cluster.coordinators[follower]!.output()).not.toMatch(/marked as dead/);

    // A node that knows only the follower joins through it.
    await joinThrough(cluster, follower);
    expect(await info(cluster, follower)).toMatchObject({
      role: 'follower',
      leader: addressOf(cluster.coordinatorEndpoints[next]!),
    });

    await sleep(500);
    await epochs.stop();
    expect(workload.acknowledged).toBeGreaterThan(100);
    expect(await workload.stopAndCheck(cluster.node(0))).toBe('ok');
    expect(epochs.regressions).toEqual([]);
    // The follower serves the leader's ring.
    await waitFor(
      'the follower at the leader epoch',
      async () =>
        (await ringOf(cluster.coordinatorEndpoints[follower]!)).epoch ===
          (await ringOf(cluster.coordinatorEndpoint)).epoch || undefined,
      { timeoutMs: 5000 },
    );
  });

  it('SIGSTOP the leader past its lease, then resume it: it does not act as leader', async () => {
    const cluster = await startCluster('pause');
    const epochs = new EpochWatch(cluster);
    const first = await leaderOf(cluster, 2 * LEASE_TTL_MS);
    const paused = cluster.coordinators[first]!;
    paused.pause();
    const next = await leaderOf(cluster, 2 * LEASE_TTL_MS + MARGIN_MS, first);
    cluster.askCoordinator(next);
    const leader = cluster.coordinators[next]!;

    // While the old leader sleeps, a node dies: the new leader declares it.
    const from = leader.mark;
    const victim = cluster.node(2);
    await victim.process.kill();
    await leader.waitForLine(coordinatorLog.dead(victim.id), FAILURE_TIMEOUT_MS + MARGIN_MS, from);
    const resumedAt = paused.mark;
    paused.resume();

    // It wakes up a follower: it decides nothing, and serves the leader's epoch.
    await paused.waitForLine(/No longer leading: /, 5000, resumedAt);
    await waitFor(
      () => `the resumed coordinator following at the leader epoch\n${cluster.logs(20)}`,
      async () => {
        const fields = await info(cluster, first);
        const epoch = (await ringOf(cluster.coordinatorEndpoint)).epoch;
        return (fields['role'] === 'follower' && Number(fields['epoch']) === epoch) || undefined;
      },
      { timeoutMs: 10_000 },
    );
    // A membership change sent to it reaches the leader.
    await joinThrough(cluster, first);
    expect(paused.output()).not.toMatch(/marked as dead/);
    expect((await info(cluster, first))['role']).toBe('follower');
    await epochs.stop();
    expect(epochs.regressions).toEqual([]);
  });
});
