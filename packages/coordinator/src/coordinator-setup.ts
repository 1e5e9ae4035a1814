import { loadServerTls, TlsConfigError, type ServerTls } from '@kv/protocol';
import type { RingOptions } from '@kv/ring';
import type { Logger } from 'winston';
import type { CoordinatorConfig } from './config';
import { ConfigError } from './errors';

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
