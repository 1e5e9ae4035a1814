import type { InfoSection } from './info';
import type { ResolvedNodeOptions } from './node-options';
import type { Placement } from './placement';
import type { Rebalancer } from './rebalancer';
import type { QuorumOperations } from './quorum-operations';
import type { HintStore } from './hints';
import type { Store } from './store';
import type { TransferStats } from './syncer';

/** What INFO reports on, read when INFO is asked. */
export interface NodeInfoSources {
  readonly id: string;
  readonly port: number;
  readonly startedAt: number;
  readonly options: ResolvedNodeOptions;
  readonly store: Store;
  readonly placement: Placement | undefined;
  readonly connectedClients: number;
  readonly coordinatorConnected: boolean;
  readonly commandsProcessed: number;
  readonly opsByCommand: ReadonlyMap<string, number>;
  readonly requests: QuorumOperations;
  readonly rebalancer: Rebalancer;
  readonly hints: HintStore;
  readonly transfers: TransferStats;
}

/** The sections of a node's INFO reply, in the Redis layout's order. */
export function nodeInfoSections(s: NodeInfoSources): InfoSection[] {
  const mem = process.memoryUsage();
  const stats = s.requests.stats;
  const { options, placement, rebalancer, hints, transfers } = s;
  return [
    {
      name: 'Server',
      fields: {
        kv_role: 'node',
        node_id: s.id,
        process_id: process.pid,
        tcp_port: s.port,
        uptime_in_seconds: Math.floor((Date.now() - s.startedAt) / 1000),
        node_version: process.version,
      },
    },
    {
      name: 'Clients',
      fields: { connected_clients: s.connectedClients, maxclients: options.maxConnections },
    },
    {
      name: 'Memory',
      fields: {
        used_memory: mem.heapUsed + mem.external,
        used_memory_rss: mem.rss,
        data_bytes: s.store.bytes,
      },
    },
    {
      name: 'Stats',
      fields: {
        total_commands_processed: s.commandsProcessed,
        ...Object.fromEntries(
          [...s.opsByCommand].map(([name, calls]) => [
            `cmdstat_${name.toLowerCase()}`,
            `calls=${calls}`,
          ]),
        ),
      },
    },
    {
      name: 'Replication',
      fields: {
        ring_epoch: placement?.epoch ?? -1,
        ring_members: placement?.read.size ?? 0,
        replication_factor: placement?.replicationFactor ?? 0,
        write_quorum: options.writeQuorum,
        read_quorum: options.readQuorum,
        coordinator: `${options.coordinator.host}:${options.coordinator.port}`,
        coordinator_connected: s.coordinatorConnected ? 1 : 0,
        coordinated_writes: stats.writes,
        coordinated_reads: stats.reads,
        writes_unavailable: stats.writesUnavailable,
        reads_unavailable: stats.readsUnavailable,
        replica_failures: stats.replicaFailures,
        read_repairs: stats.readRepairs,
        version_retries: stats.versionRetries,
      },
    },
    {
      name: 'Rebalance',
      fields: {
        phase: rebalancer.phase,
        sync_peers_pending: rebalancer.stats.peersPending,
        handoff_pending: rebalancer.stats.handoffPending,
        keys_received: transfers.keysReceived,
        bytes_received: transfers.bytesReceived,
        keys_sent: transfers.keysSent,
        bytes_sent: transfers.bytesSent,
        keys_dropped: transfers.keysDropped,
        hints_pending: hints.stats.pending,
        hints_pending_bytes: hints.stats.pendingBytes,
        hints_delivered: hints.stats.delivered,
        hints_dropped: hints.stats.dropped,
        sync_rounds: rebalancer.stats.rounds,
        last_sync_round_at: Math.floor(rebalancer.stats.lastRoundAt / 1000),
        last_sync_round_repairs: rebalancer.stats.lastRoundRepairs,
        stream_rate: options.streamRate,
      },
    },
    {
      name: 'Keyspace',
      fields: { db0: `keys=${s.store.size - s.store.tombstones}` },
    },
  ];
}
