import { spawnSync } from 'node:child_process';

/** The Redis command-line tools the interop tests run (Debian/Ubuntu package redis-tools). */
export type RedisTool = 'redis-cli' | 'redis-benchmark';

/**
 * Checks that a tool can be run; throws (failing the test, never skipping it) with how to
 * install it when it cannot.
 */
export function requireTool(tool: string): void {
  const probe = spawnSync(tool, ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    const why = probe.error
      ? (probe.error as NodeJS.ErrnoException).code
      : `exit code ${probe.status}`;
    throw new Error(
      `${tool} is needed by the Redis interop tests but cannot be run (${why}): ` +
        'install it with `apt-get install -y redis-tools` (CI installs it)',
    );
  }
}
