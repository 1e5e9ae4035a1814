/**
 * @packageDocumentation
 * The kv storage node: holds data, versions writes with a hybrid logical clock, replicates
 * each key to its preference list with last-writer-wins merging, and coordinates any
 * client request it receives (write quorum W, read quorum R, read repair). Speaks RESP2,
 * so redis-cli, redis-benchmark and Redis clients work against it.
 */
export { startNode, type NodeOptions, type KvNode } from './node';
export { Store } from './store';
export { MemoryEngine } from './memory-engine';
export { inRange, type StorageEngine } from './engine';
export { HybridLogicalClock, wallOf, LOGICAL_BITS } from './hlc';
export { compareVersions, supersedes, isLive, newest, type StoredRecord } from './record';
export { QuorumCounter, type QuorumOutcome } from './quorum';
export {
  RequestCoordinator,
  type RequestCoordinatorOptions,
  type CoordinationStats,
} from './request-coordinator';
export { NODE_COMMANDS, createNodeRouter } from './node-commands';
export type { CommandContext } from './command-context';
export { main } from './cli';
export { parseNodeConfig, type ParsedConfig } from './config';
export { NodeError, InvalidNodeOptionError } from './errors';
export { createNodeLogger, type LoggerOptions, type LogFormat, type LogLevel } from './logger';
