import type { Argv } from 'yargs';
import { DISTRIBUTIONS, WORKLOADS } from './workload';

/**
 * Declares `kv bench`'s flags on its yargs command. Defaults are applied by
 * `parseBenchOptions`, which can then tell which flags were given.
 */
export function benchCommandBuilder(y: Argv): Argv {
  const text = (describe: string, defaultDescription?: string) =>
    ({ type: 'string', requiresArg: true, describe, defaultDescription }) as const;
  return y
    .option('workload', { alias: 'w', ...text(`what to run: ${workloadChoices()}`, 'a') })
    .option('keys', text('size of the key space', '100000'))
    .option('distribution', text(`how keys are chosen: ${DISTRIBUTIONS.join(' or ')}`, 'zipfian'))
    .option('value-size', text('bytes per value written', '100'))
    .option('concurrency', text('concurrent workers', '50'))
    .option('pipeline', text('requests each worker keeps in flight', '1'))
    .option('duration', text('seconds to measure', '10'))
    .option('operations', text('measure this many operations instead of --duration'))
    .option('warmup', text('seconds to run before measuring (not measured)', '1'))
    .option('load', {
      type: 'boolean',
      describe: 'write every key before measuring',
      defaultDescription: 'on for workloads that read',
    })
    .option('no-load', { type: 'boolean', describe: 'do not write the key space first' })
    .option('seed', text('seed of the key and operation choices, to repeat a run exactly'))
    .example('kv bench', 'workload a, 100,000 zipfian keys, 50 workers, 10 s')
    .example('kv bench -w b --duration 30 --concurrency 100', 'read-mostly, 30 s, 100 workers')
    .example('kv bench -w w --operations 1000000 --pipeline 16 --json', 'a million writes');
}

/** The workloads for help and messages: `a (50% read / 50% update), b (...), ...`. */
export function workloadChoices(): string {
  return Object.entries(WORKLOADS)
    .map(([name, w]) => `${name} (${w.description})`)
    .join(', ');
}
