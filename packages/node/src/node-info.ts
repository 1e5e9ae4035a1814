import type { InfoSection } from './info';
import type { Phase, RingEpoch } from '@kv/ring';
import type { NodeMetrics } from './metrics';
import type { ResolvedNodeOptions } from './node-options';
import type { Store } from './store';

/** What INFO reports on, read when INFO is asked. */
export interface NodeInfoSources {
  readonly id: string;
  readonly port: number;
  readonly startedAt: number;
  readonly options: ResolvedNodeOptions;
  readonly store: Store;
  readonly placement: RingEpoch | undefined;
  readonly connectedClients: number;
  readonly coordinatorConnected: boolean;
  readonly metrics: NodeMetrics;
  readonly phase: Phase;
}

/** The sections of a node's INFO reply, in the Redis layout's order. */
export function nodeInfoSections(s: NodeInfoSources): InfoSection[] {
  const mem = process.memoryUsage();
  const { options, placement } = s;
  const { counters, gauges } = s.metrics;
  const calls = s.metrics.commandCalls();
  let total = 0;
  for (const n of calls.values()) total += n;
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
        total_commands_processed: total,
        ...Object.fromEntries(
          [...calls].map(([name, calls]) => [`cmdstat_${name.toLowerCase()}`, `calls=${calls}`]),
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
        coordinated_writes: counters.quorumWrites.value,
        coordinated_reads: counters.quorumReads.value,
        writes_unavailable: counters.writesUnavailable.value,
        reads_unavailable: counters.readsUnavailable.value,
        replica_failures: counters.replicaFailures.value,
        read_repairs: counters.readRepairs.value,
        version_retries: counters.versionRetries.value,
        max_clock_offset_ms: options.maxClockOffsetMs,
        clock_offset_ms: Math.round(gauges.clockOffset.value * 1000),
        clock_fenced: gauges.clockFenced.value,
        writes_fenced: counters.writesFenced.value,
        versions_refused: counters.versionsRefused.value,
        write_deadline_ms: options.writeDeadlineMs,
        write_deadlines_missed: counters.writeDeadlinesMissed.value,
      },
    },
    {
      name: 'Rebalance',
      fields: {
        phase: s.phase,
        sync_peers_pending: gauges.syncPeersPending.value,
        handoff_pending: gauges.handoffPending.value,
        unsynced_ranges: gauges.unsyncedRanges.value,
        unsynced_reads: counters.unsyncedReads.value,
        stale_read_refusals: counters.staleRefusals.value,
        keys_received: counters.recordsReceived.value,
        bytes_received: counters.bytesReceived.value,
        keys_sent: counters.recordsSent.value,
        bytes_sent: counters.bytesSent.value,
        keys_dropped: counters.recordsDropped.value,
        hints_pending: gauges.hintsPending.value,
        hints_pending_bytes: gauges.hintsPendingBytes.value,
        hints_delivered: counters.hintsDelivered.value,
        hints_dropped: counters.hintsDropped.value,
        sync_rounds: counters.syncRounds.value,
        last_sync_round_at: Math.floor(gauges.lastSyncRoundAt.value),
        last_sync_round_repairs: gauges.lastSyncRoundRepairs.value,
        stream_rate: options.streamRate,
      },
    },
    {
      name: 'Persistence',
      fields: {
        storage_engine: typeof options.engine === 'string' ? options.engine : 'custom',
        data_dir: options.dataDir ?? '',
        fsync: options.dataDir === undefined ? '' : options.fsync,
        tombstones: s.store.tombstones,
      },
    },
    {
      name: 'Keyspace',
      fields: { db0: `keys=${s.store.size - s.store.tombstones}` },
    },
  ];
}
