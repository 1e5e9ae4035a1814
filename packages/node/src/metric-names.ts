/**
 * The names and help of every metric a node exposes, in one place: what docs/metrics.md
 * lists, and what {@link NodeMetrics} (metrics.ts) registers.
 */
/** A metric's Prometheus name (`kv_` prefix, base units) and help text. */
export interface MetricSpec {
  readonly name: string;
  readonly help: string;
}

/** Every counter a node keeps: Prometheus name (`kv_` prefix, base units, `_total`). */
export const COUNTERS = {
  quorumWrites: { name: 'kv_quorum_writes_total', help: 'Writes this node coordinated.' },
  quorumReads: { name: 'kv_quorum_reads_total', help: 'Reads this node coordinated.' },
  writesUnavailable: {
    name: 'kv_quorum_writes_unavailable_total',
    help: 'Coordinated writes answered UNAVAILABLE (too few replicas acknowledged).',
  },
  readsUnavailable: {
    name: 'kv_quorum_reads_unavailable_total',
    help: 'Coordinated reads answered UNAVAILABLE (too few replicas answered).',
  },
  unsyncedReads: {
    name: 'kv_unsynced_reads_total',
    help: 'R=1 reads this node also asked of another replica, as its own copy may lack writes: a range not synced yet or on its way to another owner (to a joining node, or from this node as it leaves), or a copy that is fenced, stale or cut off from the coordinator.',
  },
  staleAnswers: {
    name: 'kv_stale_read_answers_total',
    help: 'R=1 reads a peer asked of this node, answered as possibly lacking writes (the peer reads another copy too).',
  },
  memberConnectionsLost: {
    name: 'kv_member_connections_lost_total',
    help: "Members' connections to this node that they closed or that broke; each makes the node's copy suspect until a sync round with every member.",
  },
  missedWriteNotices: {
    name: 'kv_missed_write_notices_total',
    help: "REPLICA_MISSED notices received: a member could not send this node records it should hold (its queue to this node was full, or this node was unreachable); each makes the node's copy suspect until a sync round.",
  },
  replicaFailures: {
    name: 'kv_replica_failures_total',
    help: 'Replica requests that failed or could not be sent; each record of a failed batch counts.',
  },
  replicaRecordsSent: {
    name: 'kv_replica_records_sent_total',
    help: 'Records sent to replicas (writes, read repairs, hints), alone or in batches.',
  },
  replicaBatchesSent: {
    name: 'kv_replica_batches_sent_total',
    help: 'REPLICATE_BATCH requests sent: the records bound for one replica in one event-loop turn.',
  },
  replicaOverloaded: {
    name: 'kv_replica_overloaded_total',
    help: 'Replica requests that failed on a busy replica (--max-replica-queue requests already waiting, or no reply in time while it answered others); its connection was kept.',
  },
  connectionsHeld: {
    name: 'kv_connections_held_total',
    help: 'Times a client connection stopped reading because this node had --max-in-flight requests in flight.',
  },
  readRepairs: {
    name: 'kv_read_repairs_total',
    help: 'Stale replicas sent the newest record after a read.',
  },
  versionRetries: {
    name: 'kv_write_version_retries_total',
    help: 'Writes versioned again because a replica held a newer version.',
  },
  syncRounds: { name: 'kv_sync_rounds_total', help: 'Sync rounds completed.' },
  recordsReceived: {
    name: 'kv_sync_received_records_total',
    help: 'Records stored from peers by sync rounds.',
  },
  bytesReceived: {
    name: 'kv_sync_received_bytes_total',
    help: 'Bytes of records fetched from peers by sync rounds.',
  },
  recordsSent: {
    name: 'kv_handoff_sent_records_total',
    help: 'Records pushed to their new owners by hand-off.',
  },
  bytesSent: {
    name: 'kv_handoff_sent_bytes_total',
    help: 'Bytes of records pushed to their new owners by hand-off.',
  },
  recordsDropped: {
    name: 'kv_handoff_dropped_records_total',
    help: 'Records dropped here once every new owner held them.',
  },
  hintsDelivered: {
    name: 'kv_hints_delivered_total',
    help: 'Writes kept for an unreachable replica and delivered later.',
  },
  hintsDropped: {
    name: 'kv_hints_dropped_total',
    help: 'Writes for an unreachable replica dropped (bounds reached, or it left).',
  },
  versionsRefused: {
    name: 'kv_versions_refused_total',
    help: 'Records refused because their version was further ahead of this clock than the bound.',
  },
  writesFenced: {
    name: 'kv_writes_fenced_total',
    help: 'Writes and replica writes refused while this node’s clock was out of bounds.',
  },
  authFailures: {
    name: 'kv_auth_failures_total',
    help: 'AUTH attempts with a wrong user or password, member proofs that did not verify, and metrics requests refused for their credentials.',
  },
  writeDeadlinesMissed: {
    name: 'kv_write_deadlines_missed_total',
    help: 'Writes refused because they may have waited past the write deadline.',
  },
  writesRefusedOom: {
    name: 'kv_writes_refused_oom_total',
    help: 'Writes and records refused because this node held more than --max-memory.',
  },
  logSyncedWrites: {
    name: 'kv_log_synced_writes_total',
    help: 'Writes the write-ahead log made durable (--fsync always); divided by kv_log_sync_duration_seconds_count, the writes per sync.',
  },
  logSyncedBytes: {
    name: 'kv_log_synced_bytes_total',
    help: 'Bytes the write-ahead log wrote and synced (--fsync always).',
  },
} as const satisfies Record<string, MetricSpec>;

/** Every gauge a node keeps: Prometheus name (`kv_` prefix, base units). */
export const GAUGES = {
  syncPeersPending: {
    name: 'kv_sync_peers_pending',
    help: 'Peers not yet synced in the current round.',
  },
  handoffPending: {
    name: 'kv_handoff_pending_records',
    help: 'Records outside this node’s target ranges that no owner confirmed yet.',
  },
  lastSyncRoundAt: {
    name: 'kv_sync_last_round_timestamp_seconds',
    help: 'When the last sync round completed (0: never).',
  },
  lastSyncRoundRepairs: {
    name: 'kv_sync_last_round_records',
    help: 'Records the last sync round stored.',
  },
  unsyncedRanges: {
    name: 'kv_unsynced_ranges',
    help: 'Token ranges this node gained and has not synced yet.',
  },
  hintsPending: { name: 'kv_hints_pending', help: 'Writes kept for unreachable replicas.' },
  hintsPendingBytes: {
    name: 'kv_hints_pending_bytes',
    help: 'Bytes of keys and values kept for unreachable replicas.',
  },
  clockFenced: {
    name: 'kv_clock_fenced',
    help: '1 while this node’s clock is beyond the offset bound and it stamps no write.',
  },
  clockOffset: {
    name: 'kv_clock_offset_seconds',
    help: 'This node’s clock minus the cluster’s (median of the members measured).',
  },
  usedMemory: {
    name: 'kv_used_memory_bytes',
    help: 'Bytes this node holds by its own accounting (records and hints): what --max-memory bounds.',
  },
  maxMemory: {
    name: 'kv_max_memory_bytes',
    help: 'The --max-memory bound (0: none).',
  },
} as const satisfies Record<string, MetricSpec>;

/** Gauges read from the node's state when scraped, by what they read. */
export const LIVE_GAUGES = {
  keys: { name: 'kv_keys', help: 'Live keys held here (tombstones excluded).' },
  tombstones: { name: 'kv_tombstones', help: 'Tombstones held here until purged.' },
  dataBytes: { name: 'kv_data_bytes', help: 'Bytes of keys and values held here.' },
  ringEpoch: { name: 'kv_ring_epoch', help: 'Ring epoch this node routes with (-1: none yet).' },
  ringMembers: { name: 'kv_ring_members', help: 'Members of the ring this node reads with.' },
  connectedClients: { name: 'kv_connected_clients', help: 'Open client connections.' },
  requestsInFlight: {
    name: 'kv_requests_in_flight',
    help: 'Client requests this node is serving (what --max-in-flight bounds).',
  },
  heldConnections: {
    name: 'kv_connections_held',
    help: 'Client connections not read right now because this node is at --max-in-flight.',
  },
  logPendingWrites: {
    name: 'kv_log_pending_writes',
    help: 'Writes in the write-ahead log not yet applied to the database (--fsync always); they pile up while it cannot commit.',
  },
  logPendingBytes: {
    name: 'kv_log_pending_bytes',
    help: 'Bytes of the writes in kv_log_pending_writes.',
  },
  commitsFailing: {
    name: 'kv_storage_commits_failing',
    help: '1 while the database cannot commit writes (a full or failing disk; see docs/operations.md).',
  },
} as const satisfies Record<string, MetricSpec>;

/** Calls per command, labelled by command name (known commands only). */
export const COMMANDS_METRIC: MetricSpec = {
  name: 'kv_commands_total',
  help: 'Commands processed, by command and result (ok, error).',
};

/** Requests refused before reaching a command: unknown name or wrong number of arguments. */
export const REJECTED_METRIC: MetricSpec = {
  name: 'kv_commands_rejected_total',
  help: 'Requests refused before any command ran (unknown command, wrong number of arguments).',
};

/** Latency of every command, labelled by command name. */
export const COMMAND_LATENCY_METRIC: MetricSpec = {
  name: 'kv_command_duration_seconds',
  help: 'Time from a command being dispatched to its reply being ready, by command.',
};

/** Syncs of the write-ahead log, which every durable write waits for (with its gathering). */
export const LOG_SYNC_METRIC: MetricSpec = {
  name: 'kv_log_sync_duration_seconds',
  help: 'Syncs of the write-ahead log (--fsync always), from the write of a frame to the end of its fdatasync as the event loop learns it.',
};

/** Latency of requests to other nodes (replica writes and reads, hint deliveries). */
export const REPLICA_LATENCY_METRIC: MetricSpec = {
  name: 'kv_replica_request_duration_seconds',
  help: 'Round trip of requests to replicas (REPLICATE, FETCH), failures included; a batch counts once per record.',
};

export type CounterName = keyof typeof COUNTERS;
export type GaugeName = keyof typeof GAUGES;
export type LiveGaugeName = keyof typeof LIVE_GAUGES;
