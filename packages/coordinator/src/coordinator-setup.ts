import { loadServerTls, TlsConfigError, type ServerTls } from '@kv/protocol';
import type { RingOptions } from '@kv/ring';
import type { Logger } from 'winston';
import type { CoordinatorConfig } from './config';
import { ConfigError } from './errors';
import { checkIntervalFor, FailureDetector, type FailureDetectorOptions } from './failure-detector';
import type { Membership } from './membership';

/** Warns when the ring options saved in `file` differ from the configured ones (the saved win). */
export function warnOnRingOptions(
  logger: Logger,
  file: string,
  saved: Required<RingOptions>,
  configured: RingOptions,
): void {
  const differences = (['replicationFactor', 'vnodesPerWeight'] as const)
    .filter((option) => saved[option] !== configured[option])
    .map((option) => `${option} ${saved[option]} (configured: ${configured[option]})`);
  if (differences.length === 0) return;
  logger.warn(
    `Using the ring options saved in ${file}: ${differences.join(', ')}. ` +
      'Changing them would move every key; to change them, start with an empty data directory',
  );
}

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
