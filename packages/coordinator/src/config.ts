import yargs, { type Argv } from 'yargs';
import { KEYS, OPTIONS, type CoordinatorConfig, type Key } from './config-options';
import { ConfigError } from './errors';
import { version } from './version';

export { DEFAULT_CONFIG, type CoordinatorConfig } from './config-options';

/** What {@link parseConfig} found on the command line. */
export type CommandLine =
  | { readonly action: 'start'; readonly config: CoordinatorConfig }
  | { readonly action: 'print'; readonly text: string };

/** The environment variable of a flag: `--data-dir` → `KV_DATA_DIR`. */
export function envVarOf(flag: string): string {
  return `KV_${flag.toUpperCase().replace(/-/g, '_')}`;
}

/**
 * Validates settings given programmatically and fills in the defaults.
 * @throws {@link ConfigError} naming the first invalid setting
 */
export function resolveConfig(options: Partial<CoordinatorConfig> = {}): CoordinatorConfig {
  const values: Record<string, unknown> = {};
  for (const key of KEYS) {
    const value = options[key];
    values[key] = value === undefined ? OPTIONS[key].default : OPTIONS[key].parse(value, key);
  }
  return crossCheck(values as unknown as CoordinatorConfig, (key) => key);
}

/**
 * Parses command-line arguments (without the `node script` prefix) and environment
 * variables. Precedence: flags, then `KV_*` variables (`--data-dir` ↔ `KV_DATA_DIR`; an
 * empty variable counts as unset), then defaults. Other `KV_*` variables are ignored, so
 * settings meant for nodes can share the environment.
 *
 * @returns the configuration to start with, or the text `--help` or `--version` asked for
 * @throws {@link ConfigError} with a one-line message for an unknown flag, a flag without
 *   its value, or an invalid value (the CLI prints it and exits 2)
 */
export function parseConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
  scriptName = 'kv-coordinator',
): CommandLine {
  let error: Error | undefined;
  let output = '';
  let args: Record<string, unknown> = {};
  // yargs' own `.env('KV')` cannot be handed an environment, and in strict mode it rejects
  // every KV_* variable that is not one of our flags; so flags come from yargs and the
  // environment is read here, with the same naming.
  commandLineParser(scriptName).parseSync([...argv], {}, (err, parsed, out) => {
    error = err ?? undefined;
    args = parsed as Record<string, unknown>;
    output = out;
  });
  if (error) throw new ConfigError(`${oneLine(error.message)} (see --help)`);
  if (args['help'] === true || args['version'] === true) {
    return { action: 'print', text: output };
  }
  const values: Record<string, unknown> = {};
  const names: Record<string, string> = {};
  for (const key of KEYS) {
    const { flag, parse } = OPTIONS[key];
    const fromFlag = args[flag];
    const envVar = envVarOf(flag);
    const fromEnv = env[envVar];
    if (fromFlag !== undefined) {
      names[key] = `--${flag}`;
      values[key] = parse(fromFlag, names[key]);
    } else if (fromEnv !== undefined && fromEnv !== '') {
      names[key] = envVar;
      values[key] = parse(fromEnv, envVar);
    } else {
      names[key] = `--${flag}`;
      values[key] = OPTIONS[key].default;
    }
  }
  const config = crossCheck(values as unknown as CoordinatorConfig, (key) => names[key] ?? key);
  return { action: 'start', config };
}

function crossCheck(config: CoordinatorConfig, nameOf: (key: Key) => string): CoordinatorConfig {
  if (config.store.kind === 'etcd' && config.dataDir !== undefined) {
    throw new ConfigError(
      `${nameOf('dataDir')} and an etcd ${nameOf('store')} exclude each other: with etcd the ` +
        'membership lives in etcd, not in a state file; drop one of them',
      nameOf('dataDir'),
    );
  }
  if (config.failureTimeoutMs <= config.heartbeatIntervalMs) {
    const failure = nameOf('failureTimeoutMs');
    throw new ConfigError(
      `${failure} (${config.failureTimeoutMs} ms) must be greater than ` +
        `${nameOf('heartbeatIntervalMs')} (${config.heartbeatIntervalMs} ms), ` +
        'or live nodes would be declared dead between two heartbeats',
      failure,
    );
  }
  return Object.freeze({ ...config });
}

function commandLineParser(scriptName: string): Argv {
  const parser = yargs()
    .scriptName(scriptName)
    .usage(
      'Usage: $0 [options]\n\n' +
        'The kv coordinator: cluster membership, heartbeats, failure detection and the ring.',
    )
    .parserConfiguration({
      'parse-numbers': false,
      'parse-positional-numbers': false,
      'duplicate-arguments-array': false,
      'boolean-negation': false,
    })
    .strict()
    .wrap(100)
    .epilog(
      'Every option can also be set through its environment variable; flags win over the ' +
        'environment. Exit codes: 0 stopped cleanly, 1 could not start or stop cleanly, ' +
        '2 invalid configuration.',
    );
  for (const key of KEYS) {
    const { flag, describe, default: value, defaultText, boolean } = OPTIONS[key];
    parser.option(flag, {
      describe: `${describe} (env ${envVarOf(flag)})`,
      ...(boolean ? { type: 'boolean' } : { requiresArg: true }),
      defaultDescription: defaultText ?? (value === undefined ? 'none' : String(value)),
    });
  }
  return parser.version(version()).help().alias('h', 'help');
}

function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, '; ');
}
