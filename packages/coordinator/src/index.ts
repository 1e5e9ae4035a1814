/**
 * @packageDocumentation
 * The kv coordinator: the cluster's membership registry. Storage nodes register
 * (`REGISTER_NODE host port [ZONE z] [WEIGHT w]`) and heartbeat over RESP2; members silent
 * for the failure timeout are marked dead and removed from the consistent-hash ring; every
 * membership change bumps the ring epoch; with a data directory the membership survives
 * restarts, or with an etcd store several coordinators share it and elect a leader. Nodes
 * and clients fetch the ring (`RING`) and place keys locally with `@kv/ring`.
 *
 * @example
 * ```ts
 * import { startCoordinator } from '@kv/coordinator';
 *
 * const coordinator = await startCoordinator({ port: 5000, dataDir: './coord' });
 * // ... nodes register; coordinator.ring.preferenceList('user:1') ...
 * await coordinator.close();
 * ```
 */
export {
  Coordinator,
  startCoordinator,
  COORDINATOR_LIMITS,
  type CoordinatorOptions,
} from './coordinator';
export {
  parseConfig,
  resolveConfig,
  envVarOf,
  DEFAULT_CONFIG,
  type CoordinatorConfig,
  type CommandLine,
} from './config';
export { runCli, main, ExitCode, type CliOutput } from './cli';
export {
  createLogger,
  LOG_LEVELS,
  LOG_FORMATS,
  type LogLevel,
  type LogFormat,
  type LoggerOptions,
} from './logger';
export { MemberState, type MemberStatus } from './member-state';
export {
  Membership,
  ChangeKind,
  MAX_DEAD_REMEMBERED,
  type MembershipChange,
  type MembershipOptions,
  type MembershipState,
  type Registration,
  type RegisterOptions,
} from './membership';
export { FailureDetector, checkIntervalFor, type FailureDetectorOptions } from './failure-detector';
export { StateStore, STATE_FILE_NAME } from './state-store';
export type { MembershipStore } from './membership-store';
export { EtcdStore, type EtcdStoreOptions } from './etcd-store';
export {
  EtcdCoordination,
  type EtcdCoordinationOptions,
  type Leadership,
  type SharedStore,
} from './etcd-coordination';
export {
  LeaderElection,
  LEASE_SAFETY,
  Role,
  type ElectionBackend,
  type LeaderElectionOptions,
} from './leader-election';
export { parseStoreLocation, DEFAULT_ETCD_PREFIX, type StoreLocation } from './store-url';
export {
  COORDINATOR_COMMANDS,
  createCoordinatorRouter,
  type CommandContext,
  type CommandName,
} from './coordinator-commands';
export {
  CoordinatorError,
  ConfigError,
  NotRegisteredError,
  StateFileError,
  StateWriteError,
  ListenError,
  LeaseLostError,
  NotLeaderError,
  EtcdUnavailableError,
  EtcdStateError,
} from './errors';
