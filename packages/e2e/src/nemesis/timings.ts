/**
 * The timings of a nemesis run, in one place: the servers' (short, so that faults of a few
 * seconds make the coordinator declare deaths and nodes rejoin), the phases' and the
 * clients'. Changing one changes every schedule, so reports name the values they ran with.
 */
export const NEMESIS_TIMINGS = {
  /** Coordinator and node `--heartbeat-interval`. */
  heartbeatIntervalMs: 250,
  /** Coordinator `--failure-timeout`: episodes last longer or shorter than this. */
  failureTimeoutMs: 3000,
  /** Node `--replica-timeout`. */
  replicaTimeoutMs: 1000,
  /** Node `--anti-entropy-interval`, so that replicas converge within the settle time. */
  antiEntropyIntervalMs: 3000,
  /** Workload without faults before the first episode. */
  warmupMs: 2000,
  /** Time in which the episodes happen. */
  faultPhaseMs: 30_000,
  /** Shortest and longest episode. */
  episodeDurationMs: [2000, 7000],
  /** Shortest and longest healthy gap after an episode. */
  gapMs: [1000, 4000],
  /** After healing: how long the cluster may take to have every node up and every key's owners agree. */
  settleTimeoutMs: 30_000,
  /** Workload after settling, with no fault: its reads must all see the writes acknowledged before them. */
  quietMs: 3000,
  /** Settling again after that workload, before the final reads. */
  finalSettleTimeoutMs: 15_000,
  /** One operation, the client's retries included; past it, it is indeterminate. */
  opTimeoutMs: 5000,
  /** The client's per-request timeout (above the replica timeout, as @kv/client advises). */
  requestTimeoutMs: 2000,
  /** A client's pause between two operations. */
  thinkMs: [10, 60],
} as const;

export type NemesisTimings = typeof NEMESIS_TIMINGS;

/** Slack over the planned length of a run for jest's timeout: startup, settling, checks. */
export function runTimeoutMs(timings: NemesisTimings = NEMESIS_TIMINGS): number {
  return (
    timings.warmupMs +
    timings.faultPhaseMs +
    timings.opTimeoutMs * 2 +
    timings.settleTimeoutMs +
    timings.quietMs +
    timings.finalSettleTimeoutMs +
    60_000
  );
}
