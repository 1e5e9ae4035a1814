import { ConnectionPool, type ConnectFactory, type Handshake } from '@kv/protocol';

/** One node's figures for the dashboard, from its INFO. */
export interface NodeStats {
  /** Whether the node answered INFO; the figures are null when it did not. */
  readonly reachable: boolean;
  readonly error: string | null;
  readonly keys: number | null;
  /** Commands per second since the previous reading; null on the first. */
  readonly opsPerSec: number | null;
  /** 99th percentile command latency since the node started, in milliseconds. */
  readonly p99Ms: number | null;
  /** Resident memory of the node's process, in bytes. */
  readonly memoryBytes: number | null;
  readonly dataBytes: number | null;
  /** `serving`, `joining` or `leaving`. */
  readonly phase: string | null;
  readonly syncPeersPending: number;
  readonly unsyncedRanges: number;
  readonly handoffPending: number;
  readonly hintsPending: number;
  /** Its storage engine (`memory`, `lmdb`); null when INFO does not say. */
  readonly engine: string | null;
  /** With a data directory, its `--fsync` mode (`always`, `periodic`, `never`). */
  readonly fsync: string | null;
  /** 99th percentile of the write-ahead log's syncs (`--fsync always`), in milliseconds. */
  readonly logSyncP99Ms: number | null;
  /** The node's database cannot commit writes (a full or failing disk). */
  readonly commitsFailing: boolean;
}

interface Reading {
  readonly at: number;
  readonly commands: number;
}

/** How long a node may take to answer INFO before it shows as unreachable. */
const PROBE_TIMEOUT_MS = 1000;

/**
 * Reads the nodes' INFO for the dashboard, over connections of its own. Readings are
 * taken only when asked (someone is looking at the dashboard) and at most once per
 * `minIntervalMs`, so an idle dashboard costs the cluster nothing.
 */
export class NodeProbe {
  private readonly pool: ConnectionPool;
  private readonly previous = new Map<string, Reading>();
  private latest:
    { at: number; ids: ReadonlySet<string>; stats: Promise<Map<string, NodeStats>> } | undefined;

  /**
   * @param connection - how to reach the nodes: their TLS dialler, and the member handshake
   *   when the cluster has a secret (nodes with users answer INFO to members only)
   */
  constructor(
    private readonly now: () => number,
    private readonly minIntervalMs = 500,
    connection: { readonly connect?: ConnectFactory; readonly handshake?: Handshake } = {},
  ) {
    this.pool = new ConnectionPool({
      requestTimeoutMs: PROBE_TIMEOUT_MS,
      connectTimeoutMs: PROBE_TIMEOUT_MS,
      maxPending: 4,
      ...(connection.connect && { connect: connection.connect }),
      handshake: connection.handshake,
    });
  }

  /** The figures of each of `ids`, read now or at most `minIntervalMs` ago. */
  read(ids: readonly string[]): Promise<Map<string, NodeStats>> {
    const at = this.now();
    const latest = this.latest;
    // A member the last reading did not ask (it just registered) is read at once, rather
    // than shown as unreachable until the next reading.
    if (latest && at - latest.at < this.minIntervalMs && ids.every((id) => latest.ids.has(id)))
      return latest.stats;
    const stats = Promise.all(ids.map(async (id) => [id, await this.probe(id, at)] as const)).then(
      (entries) => {
        for (const id of this.previous.keys()) if (!ids.includes(id)) this.previous.delete(id);
        return new Map(entries);
      },
    );
    this.latest = { at, ids: new Set(ids), stats };
    return stats;
  }

  close(): void {
    this.pool.close();
  }

  private async probe(id: string, at: number): Promise<NodeStats> {
    let text: string;
    try {
      const reply = await this.pool.send(id, ['INFO']);
      if (!Buffer.isBuffer(reply)) throw new Error(`INFO answered ${String(reply)}`);
      text = reply.toString('utf8');
    } catch (err) {
      this.previous.delete(id);
      return unreachable(err instanceof Error ? err.message : String(err));
    }
    const field = (name: string): number | null => {
      const match = new RegExp(`^${name}:(\\d+(?:\\.\\d+)?)\\r?$`, 'm').exec(text);
      return match ? Number(match[1]) : null;
    };
    const commands = field('total_commands_processed') ?? 0;
    const before = this.previous.get(id);
    this.previous.set(id, { at, commands });
    // Our own INFO is one of the commands counted.
    const opsPerSec =
      before && at > before.at
        ? Math.max(0, ((commands - before.commands - 1) * 1000) / (at - before.at))
        : null;
    const p99 = field('command_p99_usec');
    const keys = /^db0:keys=(\d+)/m.exec(text)?.[1];
    return {
      reachable: true,
      error: null,
      // A node without keys leaves db0 out, as Redis does.
      keys: keys === undefined ? 0 : Number(keys),
      opsPerSec,
      p99Ms: p99 === null ? null : p99 / 1000,
      memoryBytes: field('used_memory_rss'),
      dataBytes: field('data_bytes'),
      phase: /^phase:(\w+)/m.exec(text)?.[1] ?? null,
      syncPeersPending: field('sync_peers_pending') ?? 0,
      unsyncedRanges: field('unsynced_ranges') ?? 0,
      handoffPending: field('handoff_pending') ?? 0,
      hintsPending: field('hints_pending') ?? 0,
      ...storageOf(text, field),
    };
  }
}

/** What the Persistence section of INFO says of the node's disk. */
function storageOf(
  text: string,
  field: (name: string) => number | null,
): Pick<NodeStats, 'engine' | 'fsync' | 'logSyncP99Ms' | 'commitsFailing'> {
  const p99 = field('log_sync_p99_usec');
  return {
    engine: /^storage_engine:(\w+)/m.exec(text)?.[1] ?? null,
    fsync: /^fsync:(\w+)/m.exec(text)?.[1] ?? null,
    // 0: no sync lately (the p99 is of the last minute or two), or none ever.
    logSyncP99Ms: p99 === null || p99 === 0 ? null : p99 / 1000,
    commitsFailing: field('commits_failing') === 1,
  };
}

function unreachable(error: string): NodeStats {
  return {
    reachable: false,
    error,
    keys: null,
    opsPerSec: null,
    p99Ms: null,
    memoryBytes: null,
    dataBytes: null,
    phase: null,
    syncPeersPending: 0,
    unsyncedRanges: 0,
    handoffPending: 0,
    hintsPending: 0,
    engine: null,
    fsync: null,
    logSyncP99Ms: null,
    commitsFailing: false,
  };
}
