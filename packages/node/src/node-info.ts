import { CLIENT_COMMANDS } from './client-commands';
import type { InfoSection } from './info';
import type { Phase, RingEpoch } from '@kv/ring';
import type { MemoryLimit } from './memory-limit';
import type { NodeMetrics } from './metrics';
import type { ResolvedNodeOptions } from './resolve-node-options';
import type { Store } from './store';

/** What INFO reports on, read when INFO is asked. */
export interface NodeInfoSources {
  /** This node's id, its advertised `host:port`. */
  readonly id: string;
  /** The bound port. */
  readonly port: number;
  readonly startedAt: number;
  readonly options: ResolvedNodeOptions;
  readonly store: Store;
  readonly memory: MemoryLimit;
  readonly placement: RingEpoch | undefined;
  readonly connectedClients: number;
  /** Client requests being served, and connections held back at the bound. */
  readonly requestsInFlight: number;
  readonly heldConnections: number;
  readonly coordinatorConnected: boolean;
  /** The coordinator the node talks to now (`host:port`), one of those it was given. */
  readonly coordinator: string;
  readonly metrics: NodeMetrics;
  readonly phase: Phase;
}

/** Names (aliases included) of the commands clients send, whose latency INFO reports. */
const CLIENT_COMMAND_NAMES: readonly string[] = Object.entries(CLIENT_COMMANDS).flatMap(
  ([name, spec]) => [name, ...(spec.aliases ?? [])],
);

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
        tls: options.tls ? 1 : 0,
        tls_client_certs: options.tls?.requestCert ? 1 : 0,
        uptime_in_seconds: Math.floor((Date.now() - s.startedAt) / 1000),
        node_version: process.version,
      },
    },
    {
      name: 'Clients',
      fields: {
        connected_clients: s.connectedClients,
        maxclients: options.maxConnections,
        requests_in_flight: s.requestsInFlight,
        max_in_flight: options.maxInFlight,
        held_clients: s.heldConnections,
        connections_held: counters.connectionsHeld.value,
      },
    },
    {
      name: 'Memory',
      // As in Redis, used_memory is what maxmemory bounds: here the node's own accounting.
      fields: {
        used_memory: s.memory.usedBytes,
        maxmemory: s.memory.maxBytes,
        maxmemory_policy: 'noeviction',
        used_memory_heap: mem.heapUsed + mem.external,
        used_memory_rss: mem.rss,
        data_bytes: s.store.bytes,
        writes_refused_oom: counters.writesRefusedOom.value,
      },
    },
    {
      name: 'Stats',
      fields: {
        total_commands_processed: total,
        // Redis's name for failed AUTH attempts; kv counts failed member proofs too.
        acl_access_denied_auth: counters.authFailures.value,
        command_p99_usec: Math.round(s.metrics.p99(CLIENT_COMMAND_NAMES) * 1e6),
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
        coordinator: s.coordinator,
        coordinator_connected: s.coordinatorConnected ? 1 : 0,
        coordinated_writes: counters.quorumWrites.value,
        coordinated_reads: counters.quorumReads.value,
        writes_unavailable: counters.writesUnavailable.value,
        reads_unavailable: counters.readsUnavailable.value,
        replica_failures: counters.replicaFailures.value,
        replica_overloaded: counters.replicaOverloaded.value,
        max_replica_queue: options.maxReplicaQueue,
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
        stale_read_answers: counters.staleAnswers.value,
        member_connections_lost: counters.memberConnectionsLost.value,
        missed_write_notices: counters.missedWriteNotices.value,
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
        fsync_interval_ms:
          options.dataDir !== undefined && options.fsync === 'periodic'
            ? options.fsyncIntervalMs
            : '',
        tombstones: s.store.tombstones,
        log_pending_writes: s.store.backlog.writes,
        log_pending_bytes: s.store.backlog.bytes,
        log_syncs: s.metrics.logSyncs.count,
        log_synced_writes: counters.logSyncedWrites.value,
        log_sync_p99_usec: Math.round(s.metrics.recentLogSyncs.quantile(0.99) * 1e6),
        commits_failing: s.store.commitsFailing ? 1 : 0,
      },
    },
    {
      name: 'Keyspace',
      fields: { db0: `keys=${s.store.size - s.store.tombstones}` },
    },
  ];
}
