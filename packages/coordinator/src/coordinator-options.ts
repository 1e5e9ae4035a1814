import type { ProtocolLimits, UserTable } from '@kv/protocol';
import type { Logger } from 'winston';
import type { CoordinatorConfig } from './config';

/** Options of {@link startCoordinator}: any {@link CoordinatorConfig} setting, and more. */
export interface CoordinatorOptions extends Partial<CoordinatorConfig> {
  /**
   * Logger to write to; the coordinator logs through `logger.child({ component:
   * 'Coordinator' })`. When given, `logLevel`, `logFormat` and `silent` are not applied.
   * @default a {@link createLogger} logger with `logLevel` and `logFormat`, on stdout
   */
  readonly logger?: Logger;
  /**
   * Log nothing (for tests).
   * @default false
   */
  readonly silent?: boolean;
  /**
   * Clock in milliseconds for heartbeat ages and failure detection; only differences
   * matter.
   * @default performance.now (monotonic)
   */
  readonly now?: () => number;
  /**
   * The cluster secret members authenticate with.
   * @default read from `clusterSecretFile`, else none
   */
  readonly clusterSecret?: Buffer;
  /**
   * The users clients authenticate as.
   * @default read from `usersFile`, else none
   */
  readonly users?: UserTable;
  /**
   * Protocol limits of the listener.
   * @default {@link COORDINATOR_LIMITS}
   */
  readonly limits?: Partial<ProtocolLimits>;
}

/**
 * The coordinator's protocol limits, tighter than the @kv/protocol defaults because no
 * coordinator command needs a large argument: 64 KiB per argument (longer ones get
 * `-TOOLARGE`), 1,024 arguments per command and 1 MiB held for one unfinished command.
 */
export const COORDINATOR_LIMITS: Readonly<Partial<ProtocolLimits>> = Object.freeze({
  maxBulkLength: 64 * 1024,
  maxArrayLength: 1024,
  maxBufferedBytes: 1024 * 1024,
});
