import {
  accessSettingsProblem,
  loadServerTls,
  lockDataDir,
  TlsConfigError,
  type DataDirLock,
  type ProtocolLimits,
  type ServerTls,
  type UserTable,
} from '@kv/protocol';
import type { RingOptions } from '@kv/ring';
import type { Logger } from 'winston';
import { loadAccess, protectedModeRefusal } from './access-config';
import { resolveConfig, type CoordinatorConfig } from './config';
import type { CoordinatorOptions } from './coordinator-options';
import { ConfigError } from './errors';
import { EtcdStore } from './etcd-store';
import { checkIntervalFor, FailureDetector, type FailureDetectorOptions } from './failure-detector';
import { createLogger } from './logger';
import { Membership } from './membership';
import { warnOnRingOptions } from './ring-options';
import { StateStore } from './state-store';

/** The TLS files of `config`, read now: a file that cannot be read is a configuration error. */
export function readTls(config: CoordinatorConfig): ServerTls | undefined {
  try {
    return loadServerTls(config);
  } catch (err) {
    if (err instanceof TlsConfigError)
      throw new ConfigError(err.message, undefined, { cause: err });
    throw err;
  }
}

/** The coordinator's failure detector, paced by `config`, logging what it holds back. */
export function createFailureDetector(
  membership: Membership,
  config: Pick<CoordinatorConfig, 'heartbeatIntervalMs' | 'failureTimeoutMs'>,
  logger: Logger,
  options: Pick<FailureDetectorOptions, 'mayDecide' | 'onChange'>,
): FailureDetector {
  return new FailureDetector(membership, {
    ...options,
    failureTimeoutMs: config.failureTimeoutMs,
    checkIntervalMs: checkIntervalFor(config.heartbeatIntervalMs, config.failureTimeoutMs),
    onError: (err) =>
      logger.error(`Failure check failed: ${err instanceof Error ? err.message : String(err)}`),
    onHold: (silent, members) =>
      logger.warn(
        `Lost contact with ${silent} of ${members} members at once: assuming this coordinator ` +
          'is the one cut off, no node is declared dead until most members are heard again',
      ),
    onResume: () => logger.warn('Most members are heard again: failure detection resumes'),
    onStall: (stallMs) =>
      logger.warn(
        `The coordinator did not run for ${Math.round(stallMs)} ms (blocked or paused); ` +
          'that time is not counted against the members',
      ),
  });
}

/** What a coordinator is built from: its settings, its state and the files it read. */
export interface CoordinatorParts {
  readonly config: CoordinatorConfig;
  readonly logger: Logger;
  readonly membership: Membership;
  readonly store: StateStore | undefined;
  /** The shared store of several coordinators (`--store etcd://...`). */
  readonly etcd: EtcdStore | undefined;
  /** Held while the coordinator runs on its data directory. */
  readonly lock: DataDirLock | undefined;
  readonly now: () => number;
  readonly limits: Partial<ProtocolLimits> | undefined;
  readonly clusterSecret: Buffer | undefined;
  readonly users: UserTable | undefined;
  readonly tls: ServerTls | undefined;
}

/**
 * Validates the options, reads the access and TLS files, loads the state file if there is
 * one and hands the parts to `build`; the data directory lock and the etcd client are
 * released if anything fails, `build` included.
 */
export async function openCoordinator<T>(
  options: CoordinatorOptions,
  build: (parts: CoordinatorParts) => Promise<T>,
): Promise<T> {
  const config = resolveConfig(options);
  const { clusterSecret, users } =
    options.clusterSecret !== undefined || options.users !== undefined
      ? options
      : loadAccess(config);
  const refusal = protectedModeRefusal({ ...config, clusterSecret });
  if (refusal !== undefined) throw new ConfigError(refusal, 'host');
  const problem = accessSettingsProblem({ clusterSecret, users });
  if (problem !== undefined) throw new ConfigError(problem, 'users');
  const tls = readTls(config);
  const logger = (
    options.logger ??
    createLogger({
      level: config.logLevel,
      format: config.logFormat,
      silent: options.silent ?? false,
    })
  ).child({ component: 'Coordinator' });
  const now = options.now ?? (() => performance.now());
  const ringOptions: RingOptions = {
    replicationFactor: config.replicationFactor,
    vnodesPerWeight: config.vnodesPerWeight,
  };
  // One process per data directory: two coordinators saving one state file would each
  // overwrite the other's membership.
  const lock = config.dataDir === undefined ? undefined : lockDataDir(config.dataDir);
  const etcd = config.store.kind === 'etcd' ? new EtcdStore(config.store) : undefined;
  try {
    const store = config.dataDir === undefined ? undefined : new StateStore(config.dataDir);
    const saved = await store?.load();
    let membership: Membership;
    if (store && saved) {
      membership = Membership.restore(saved, { now });
      logger.info(
        `Loaded membership from ${store.file}: epoch ${saved.epoch}, ` +
          `${saved.ring.members.length} member(s) on probation until they heartbeat`,
      );
      warnOnRingOptions(logger, store.file, saved.ring, ringOptions);
    } else {
      membership = new Membership({ ring: ringOptions, now });
    }
    // Writing at once proves the directory is writable before any node relies on it.
    await store?.save(membership.toState());
    return await build({
      config,
      logger,
      membership,
      store,
      etcd,
      lock,
      now,
      limits: options.limits,
      clusterSecret,
      users,
      tls,
    });
  } catch (err) {
    lock?.release();
    await etcd?.close();
    throw err;
  }
}
