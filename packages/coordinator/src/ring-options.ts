import type { RingOptions } from '@kv/ring';
import type { Logger } from 'winston';

/**
 * Warns when the ring options saved in `where` (a state file, or etcd) differ from the
 * configured ones: the saved ones win.
 */
export function warnOnRingOptions(
  logger: Logger,
  where: string,
  saved: Required<RingOptions>,
  configured: RingOptions,
): void {
  const differences = (['replicationFactor', 'vnodesPerWeight'] as const)
    .filter((option) => saved[option] !== configured[option])
    .map((option) => `${option} ${saved[option]} (configured: ${configured[option]})`);
  if (differences.length === 0) return;
  logger.warn(
    `Using the ring options saved in ${where}: ${differences.join(', ')}. ` +
      'Changing them would move every key; to change them, start a new cluster (an empty data directory, or a new etcd key prefix)',
  );
}
