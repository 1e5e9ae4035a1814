/**
 * @packageDocumentation
 * The kv storage node: holds data, versions writes with a hybrid logical clock, replicates
 * each key to its preference list with last-writer-wins merging, and coordinates any
 * client request it receives (write quorum W, read quorum R, read repair). Speaks RESP2,
 * so redis-cli, redis-benchmark and Redis clients work against it.
 */
export { startNode, StorageNode, type KvNode } from './node';
export { NODE_DEFAULTS, ENGINE_NAMES, type EngineName, type NodeOptions } from './node-options';
export { resolveNodeOptions, type ResolvedNodeOptions } from './resolve-node-options';
export { Store } from './store';
export { MemoryEngine } from './memory-engine';
export { LmdbEngine, type LmdbEngineOptions } from './lmdb-engine';
export type { LogSync } from './write-ahead-log';
export {
  CommitFailedError,
  isCommitFailure,
  survivePendingCommitFailures,
} from './lmdb-commit-failures';
export {
  inRange,
  FSYNC_MODES,
  type FsyncMode,
  type StorageEngine,
  type EngineEntry,
  type EngineVersion,
} from './engine';
export { LMDB_SUBDIR } from './storage';
export { HybridLogicalClock, wallOf, LOGICAL_BITS } from './hlc';
export { compareVersions, supersedes, isLive, newest, type StoredRecord } from './record';
export { QuorumCounter, type QuorumOutcome } from './quorum';
export { QuorumOperations, type QuorumOperationsOptions } from './quorum-operations';
export { LocalReplica, RemoteReplica, Replicas, type Replica } from './replica';
export { PeerClient, type KeyVersionPage } from './peer-client';
export { NODE_COMMANDS, createNodeRouter } from './node-commands';
export type { CommandContext } from './command-context';
export { NodeMetrics, CounterCell, GaugeCell } from './metrics';
export {
  COUNTERS,
  GAUGES,
  COMMANDS_METRIC,
  type CounterName,
  type GaugeName,
} from './metric-names';
export { main } from './cli';
export { parseNodeConfig, type ParsedConfig } from './config';
export { NodeError, InvalidNodeOptionError, EngineClosedError } from './errors';
export { createNodeLogger, type LoggerOptions, type LogFormat, type LogLevel } from './logger';
