import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeClients } from '../harness/clients';
import { Cluster } from '../harness/cluster';
import { stopAll } from '../harness/process-registry';
import type { Violation } from '../harness/history-checker';
import { sleep } from '../harness/wait';
import { analyse, failingCounts, type TimeWindow } from './anomalies';
import { runEpisodes, type FaultWindow } from './fault-runner';
import type { FaultTarget } from './faults/active-fault';
import { faketimeEnv, fenceState, measureSkew, type FenceState } from './faults/clock-skew';
import { finalReads, settle, snapshot } from './final-state';
import { applyPartition } from './firewall';
import { firstKeys } from './keys';
import { namespacePlacement } from './namespace-placement';
import { NamespaceNetwork, type Host } from './network';
import type { RunReport } from './report';
import { isDurable, scheduleOf, type ScenarioName } from './scenarios';
import { describeSchedule, NODE_HOSTS } from './schedule';
import type { SubnetLease } from './subnet-lease';
import { runSync } from './system-command';
import { NEMESIS_TIMINGS, type NemesisTimings } from './timings';
import { SingleWriterWorkload } from './workload';

/** How far the measured skew may be from the planned one (startup and scheduling noise). */
const SKEW_TOLERANCE_MS = 1500;
/** Violations quoted in a report, of each kind. */
const QUOTED = 5;

/** The first few violations of each kind (missed reads after settling apart), failing kinds first. */
function quote(violations: readonly Violation[], settledAt: number): Record<string, string[]> {
  const quoted: Record<string, string[]> = {};
  for (const v of violations) {
    const group =
      v.kind === 'missed-read' && (v.read?.start ?? 0) >= settledAt
        ? 'missed-read after settling'
        : v.kind;
    const list = (quoted[group] ??= []);
    if (list.length < QUOTED) list.push(v.message);
  }
  return quoted;
}

function currentCommit(): string | undefined {
  const head = runSync('git', ['rev-parse', 'HEAD'], { allowFailure: true });
  return head.ok ? head.stdout.trim() : undefined;
}

/** Ends every fault that may still be in force: no partition, every node running and resumed. */
function healAll(target: FaultTarget): void {
  applyPartition(target.network, []);
  for (const host of NODE_HOSTS) {
    const { process } = target.node(host);
    if (process.running) process.signal('SIGCONT');
    else process.start();
  }
}

/**
 * One nemesis run: a coordinator and five nodes, each in its own network namespace (one
 * of them under libfaketime if the scenario skews a clock); the single-writer workload;
 * the scenario's episodes for this seed, the workload stopping when the last one ends (so
 * that what it did is not written over); then heal, settle, a short workload without
 * faults, settle again, and read every key from every owner. Returns what it found; the
 * network and every process are gone when it returns or throws.
 */
export async function runNemesis(
  scenario: ScenarioName,
  seed: number,
  lease: SubnetLease,
  timings: NemesisTimings = NEMESIS_TIMINGS,
): Promise<{ report: RunReport; logs: string }> {
  const origin = performance.now();
  const schedule = scheduleOf(
    scenario,
    seed,
    {
      faultPhaseMs: timings.faultPhaseMs,
      durationMs: timings.episodeDurationMs,
      gapMs: timings.gapMs,
    },
    firstKeys(),
  );
  const { skew } = schedule;
  const network = NamespaceNetwork.create(lease);
  const dataRoot = isDurable(scenario) ? mkdtempSync(join(tmpdir(), 'kv-nemesis-')) : undefined;
  try {
    const cluster = await Cluster.start({
      nodes: NODE_HOSTS.length,
      placement: namespacePlacement(network, (host: Host) =>
        skew?.host === host ? faketimeEnv(skew.offsetMs) : {},
      ),
      heartbeatIntervalMs: timings.heartbeatIntervalMs,
      failureTimeoutMs: timings.failureTimeoutMs,
      replicaTimeoutMs: timings.replicaTimeoutMs,
      nodeArgs: [
        ...['--anti-entropy-interval', String(timings.antiEntropyIntervalMs)],
        ...(dataRoot === undefined ? [] : ['--fsync', 'always']),
      ],
      ...(dataRoot !== undefined && { nodeDataRoot: dataRoot }),
      readyTimeoutMs: 30_000,
    });
    const target: FaultTarget = {
      network,
      cluster,
      node: (host) => cluster.node(NODE_HOSTS.indexOf(host)),
    };
    let measuredMs = 0;
    if (skew) {
      measuredMs = await measureSkew(target.node(skew.host).endpoint);
      if (Math.abs(measuredMs - skew.offsetMs) > SKEW_TOLERANCE_MS)
        throw new Error(
          `${skew.host} should stamp writes ${skew.offsetMs} ms ahead under libfaketime, but stamps them ${Math.round(measuredMs)} ms ahead`,
        );
    }

    const workload = new SingleWriterWorkload({
      cluster,
      seed,
      opTimeoutMs: timings.opTimeoutMs,
      requestTimeoutMs: timings.requestTimeoutMs,
      thinkMs: timings.thinkMs,
    });
    const stop = new AbortController();
    const running = workload.run(stop.signal);
    let windows: FaultWindow[];
    let phase: TimeWindow;
    try {
      await sleep(timings.warmupMs);
      const phaseStart = performance.now();
      windows = await runEpisodes(target, schedule);
      phase = { start: phaseStart, end: performance.now() };
    } finally {
      stop.abort();
      await running;
      healAll(target);
    }
    // A skewed clock is a fault for the whole phase.
    const faultWindows: TimeWindow[] = skew ? [phase] : windows;

    const settled = await settle(cluster, workload.keys(), timings.settleTimeoutMs);
    const settledAt = performance.now();
    const quiet = new AbortController();
    const timer = setTimeout(() => quiet.abort(), timings.quietMs);
    await workload.run(quiet.signal);
    clearTimeout(timer);
    const quietEnd = performance.now();
    await workload.close();
    const keys = workload.keys();
    const finalSettle = await settle(cluster, keys, timings.finalSettleTimeoutMs);
    const states = await snapshot(cluster, keys);
    await finalReads(cluster, states, workload.recorder);
    let fence: FenceState | undefined;
    if (skew) {
      const skewed = target.node(skew.host);
      fence = await fenceState(skewed.endpoint, skewed.process.output());
    }

    const analysis = analyse({
      histories: workload.recorder.histories(),
      states,
      faultWindows,
      settledAt,
      operations: workload.operations,
      origin,
    });
    const outcomes = { ok: 0, failed: 0, unknown: 0 };
    for (const o of workload.operations) outcomes[o.outcome]++;
    const failing = failingCounts(analysis.counts);
    if (!settled.settled) failing.push(`did not settle: ${settled.problem ?? ''}`);
    if (skew && fence && Math.abs(skew.offsetMs) > fence.boundMs && !(fence.fenced && fence.logged))
      failing.push(
        `${skew.host}, ${skew.offsetMs} ms off with a bound of ${fence.boundMs} ms, was not fenced (INFO clock_fenced ${fence.fenced ? 1 : 0}, fencing ${fence.logged ? '' : 'not '}logged)`,
      );
    const at = (t: number): number => Math.round(t - origin);
    const report: RunReport = {
      scenario,
      seed,
      commit: currentCommit(),
      timings,
      schedule: describeSchedule(schedule),
      ...(skew ? { skew: { ...skew, measuredMs: Math.round(measuredMs), fence } } : {}),
      phases: {
        faultsStart: at(phase.start),
        faultsEnd: at(phase.end),
        settledAt: at(settledAt),
        quietEnd: at(quietEnd),
      },
      faults: windows.map((w) => ({
        start: at(w.start),
        end: at(w.end),
        description: w.description,
      })),
      operations: outcomes,
      settle: settled,
      finalSettle,
      counts: analysis.counts,
      failing,
      violations: quote(analysis.violations, settledAt),
      violationCount: analysis.violations.length,
      divergent: analysis.divergent.slice(0, QUOTED * 4),
      durationMs: at(performance.now()),
    };
    return { report, logs: cluster.logs(Infinity, origin) };
  } finally {
    await closeClients();
    await stopAll('test');
    network.destroy();
    if (dataRoot !== undefined) rmSync(dataRoot, { recursive: true, force: true });
  }
}
