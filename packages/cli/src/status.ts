import type { Phase, Ring } from '@kv/ring';
import { CoordinatorUnreachableError, type NodeInfo, type NodeStatus } from '@kv/client';

/** What `kv status` reports about one node. */
export interface NodeReport {
  /** `host:port`, the node's id. */
  readonly address: string;
  /**
   * The coordinator's view: `up`, `probation`, `joining`, `leaving` or `dead`; `unknown`
   * when no coordinator answered.
   */
  readonly state: string;
  /** Failure domain; empty for none. */
  readonly zone: string;
  readonly weight: number;
  /** Whether the node answered INFO. The fields below are null when it did not. */
  readonly reachable: boolean;
  /** Why it did not answer. */
  readonly error: string | null;
  /** Live keys the node holds (its `db0:keys=N`). */
  readonly keys: number | null;
  /** Commands per second over the sample, the status command's own INFO excluded. */
  readonly opsPerSec: number | null;
  /** The ring epoch the node routes with (compare with the coordinator's). */
  readonly ringEpoch: number | null;
  /**
   * Data movement, from the node's `INFO rebalance`: its phase (`serving`, `joining`,
   * `leaving`), peers not yet synced in the current round, writes kept for unreachable
   * replicas (hints) and records waiting to be handed off. Null when unreachable.
   */
  readonly sync: {
    /** The node's phase in its ring epoch; `unknown` when it does not report one. */
    readonly phase: Phase | 'unknown';
    readonly peersPending: number;
    readonly hintsPending: number;
    readonly handoffPending: number;
  } | null;
  readonly uptimeSeconds: number | null;
  /** Share of the token space for which the node is the primary, 0..1. */
  readonly primaryShare: number;
  /** Share of the token space for which it holds a replica (primary included), 0..1. */
  readonly replicaShare: number;
}

/** What `kv status` reports. */
export interface ClusterStatus {
  /** The coordinators asked (comma-separated `host:port`), or the seeds when none was given. */
  readonly coordinator: string;
  /**
   * Why no coordinator answered, each address asked with its reason
   * (`127.0.0.1:5000 (ECONNREFUSED), 127.0.0.1:5001 (not a coordinator)`): the membership
   * then comes from the ring, every state `unknown`. Null when one answered.
   */
  readonly coordinatorError: string | null;
  /** The ring epoch: the coordinator's, or the newest a member had when none answered. */
  readonly epoch: number;
  /** Where the ring came from, `host:port`; null when the source does not say. */
  readonly ringFrom: string | null;
  readonly replicationFactor: number;
  /** How long ops/s was sampled over, in milliseconds; 0 when it was not. */
  readonly sampleMs: number;
  /** Every member, by address. */
  readonly nodes: readonly NodeReport[];
}

/** The calls `kv status` makes; the `@kv/client` client has them all. */
export interface StatusSource {
  listNodes(options?: { all?: boolean }): Promise<NodeStatus[]>;
  ring(): Promise<{ epoch: number; ring: Ring; from?: string }>;
  inspectNode(id: string): Promise<NodeInfo>;
}

/** Options of {@link gatherStatus}. */
export interface GatherOptions {
  /** The coordinator's address, for the report. */
  readonly coordinator: string;
  /**
   * ops/s is measured by reading each node's `total_commands_processed` twice, this many
   * milliseconds apart; 0 skips the measurement (ops/s is then null).
   * @default 1000
   */
  readonly sampleMs?: number;
  /** Waits; tests substitute it. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Monotonic clock in milliseconds; tests substitute it. */
  readonly now?: () => number;
}

/** One reading of a node's INFO. */
export interface InfoSample {
  /** The node's INFO, parsed by the client. */
  readonly info: NodeInfo;
  /** When the reply arrived, in milliseconds on a monotonic clock. */
  readonly at: number;
}

/**
 * Gathers the status of every node: membership from the coordinator (`LIST_NODES ALL`, so
 * recently dead nodes show as `dead`), ring ownership from the ring, and keys, ops/s and
 * ring epoch from each node's INFO, all nodes at once. A node that does not answer is
 * reported as unreachable; that is not a failure of the whole command. Neither is a
 * coordinator that cannot be reached: the members are then those of the ring (learned
 * from a seed or a node), their state `unknown`, and {@link ClusterStatus.coordinatorError}
 * says why.
 *
 * @throws what the source throws for the ring (no coordinator, seed or node gave one), and
 *   for the membership anything but `CoordinatorUnreachableError`
 */
export async function gatherStatus(
  source: StatusSource,
  options: GatherOptions,
): Promise<ClusterStatus> {
  const sampleMs = options.sampleMs ?? 1000;
  const now = options.now ?? (() => performance.now());
  const sleep =
    options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const [listed, { epoch, ring, from }] = await Promise.all([
    source.listNodes({ all: true }).catch((err: unknown) => {
      if (err instanceof CoordinatorUnreachableError) return err;
      throw err;
    }),
    source.ring(),
  ]);
  const members: readonly NodeStatus[] =
    listed instanceof CoordinatorUnreachableError
      ? ring.members.map((m) => ({
          id: m.id,
          state: 'unknown',
          zone: m.zone,
          weight: m.weight,
          lastHeartbeatMs: NaN,
        }))
      : listed;
  const shares = new Map(ring.ownership().map((o) => [o.id, o]));

  const sample = (id: string): Promise<InfoSample | Error> =>
    source.inspectNode(id).then(
      (info) => ({ info, at: now() }),
      (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
    );
  const first = await Promise.all(members.map((m) => sample(m.id)));
  let second: (InfoSample | Error | undefined)[] = members.map(() => undefined);
  if (sampleMs > 0 && first.some((s) => !(s instanceof Error))) {
    await sleep(sampleMs);
    second = await Promise.all(
      members.map((m, i) =>
        first[i] instanceof Error ? Promise.resolve(undefined) : sample(m.id),
      ),
    );
  }

  const nodes = members.map((member, i): NodeReport => {
    const share = shares.get(member.id);
    const base = {
      address: member.id,
      state: member.state,
      zone: member.zone,
      weight: member.weight,
      primaryShare: share?.primary ?? 0,
      replicaShare: share?.replica ?? 0,
    };
    const a = first[i];
    const b = second[i];
    if (a === undefined || a instanceof Error || b instanceof Error) {
      const failed = a instanceof Error ? a : b instanceof Error ? b : undefined;
      return {
        ...base,
        reachable: false,
        error: failed?.message ?? 'no answer',
        keys: null,
        opsPerSec: null,
        ringEpoch: null,
        uptimeSeconds: null,
        sync: null,
      };
    }
    const { info } = b ?? a;
    return {
      ...base,
      reachable: true,
      error: null,
      keys: info.keys,
      opsPerSec: b ? opsPerSecond(a, b) : null,
      ringEpoch: info.ringEpoch,
      uptimeSeconds: info.uptimeSeconds,
      sync: { ...info.rebalance, phase: info.rebalance.phase ?? 'unknown' },
    };
  });
  return {
    coordinator: options.coordinator,
    coordinatorError: listed instanceof CoordinatorUnreachableError ? attemptsOf(listed) : null,
    epoch,
    ringFrom: from ?? null,
    replicationFactor: ring.replicationFactor,
    sampleMs: second.some((s) => s !== undefined) ? sampleMs : 0,
    nodes: nodes.sort((x, y) => (x.address < y.address ? -1 : x.address > y.address ? 1 : 0)),
  };
}

/** Every address asked for the member list and why it did not answer: `a:1 (ECONNREFUSED), ...`. */
function attemptsOf(err: CoordinatorUnreachableError): string {
  return err.attempts.map((a) => `${a.address} (${a.reason})`).join(', ');
}

/**
 * Commands per second between two INFO samples. The second INFO request is itself one of
 * the commands counted between them, so it is taken off.
 */
export function opsPerSecond(a: InfoSample, b: InfoSample): number | null {
  const before = a.info.commandsProcessed;
  const after = b.info.commandsProcessed;
  const seconds = (b.at - a.at) / 1000;
  if (before === null || after === null || seconds <= 0) return null;
  return Math.max(0, after - before - 1) / seconds;
}
