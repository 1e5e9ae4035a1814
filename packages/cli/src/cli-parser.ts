import { commandLineParser } from './command-definitions';
import { UsageError } from './errors';
import { globalOptions, type GlobalOptions } from './global-options';
import { isServerCommand } from './servers';

export { parseAddress, parseAddressList } from './address-list';
export { NOT_FOR_CLUSTER } from './command-definitions';
export { clientOptionsOf, DEFAULT_COORDINATOR, type GlobalOptions } from './global-options';
export { last, optionalInteger, ttlMsOf } from './option-values';

/** The subcommands yargs dispatches (`coordinator` and `node` are passed through before it). */
export const CLI_COMMANDS = [
  'shell',
  'put',
  'get',
  'delete',
  'nodes',
  'status',
  'decommission',
  'backup',
  'cluster',
  'bench',
] as const;

/** One of {@link CLI_COMMANDS}; `shell` is `kv` without a subcommand. */
export type CliCommand = (typeof CLI_COMMANDS)[number];

/** What the command line asks for. */
export type Invocation =
  | { readonly kind: 'print'; readonly text: string }
  | {
      readonly kind: 'run';
      readonly command: CliCommand;
      readonly globals: GlobalOptions;
      /** The parsed arguments, for the command to validate what it uses. */
      readonly args: Readonly<Record<string, unknown>>;
    };

/** Usage of the subcommands with required arguments, for a clearer message than yargs'. */
const USAGE: Readonly<Record<string, string>> = {
  put: 'kv put <key> <value> [--ttl seconds]',
  get: 'kv get <key>',
  delete: 'kv delete <key>',
  del: 'kv delete <key>',
};

// Arguments after `--` are never options. yargs does not bind them to positionals (so
// `kv put k -- -5` would lack its value), so they are marked with a NUL, which no process
// argument can contain, to keep yargs from reading them as flags, and unmarked after.
const MARK = '\u0000';

/**
 * Parses `kv`'s arguments (after `node kv`).
 *
 * @throws {@link UsageError} with a one-line message for an unknown command or flag, a
 *   missing argument or an invalid value
 */
export function parseCommandLine(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Invocation {
  let error: Error | undefined;
  let output = '';
  let parsed: Record<string, unknown> = {};
  commandLineParser().parseSync(markAfterDashDash(argv), {}, (err, args, out) => {
    error = err ?? undefined;
    parsed = args as Record<string, unknown>;
    output = out;
  });
  const words = (parsed['_'] as unknown[] | undefined) ?? [];
  const first = words.length > 0 ? unmark(String(words[0])) : undefined;
  if (first !== undefined && isServerCommand(first)) {
    throw new UsageError(`'${first}' must be the first argument: kv ${first} [options]`);
  }
  if (first !== undefined && !isCliCommand(first) && first !== 'del') {
    throw new UsageError(`unknown command '${first}' (see kv --help)`);
  }
  if (error) {
    const usage = first === undefined ? undefined : USAGE[first];
    if (usage && /^Not enough non-option arguments/.test(error.message)) {
      throw new UsageError(`missing arguments: usage ${usage}`);
    }
    throw new UsageError(`${oneLine(unmark(error.message))} (see kv --help)`);
  }
  if (parsed['help'] === true || parsed['version'] === true) return { kind: 'print', text: output };
  const args = unmarkAll(parsed);
  const command: CliCommand = first === undefined ? 'shell' : first === 'del' ? 'delete' : first;
  // `kv cluster` creates its secret rather than reading one; its own flag names the file.
  const globals = globalOptions(args, env, command !== 'cluster');
  return { kind: 'run', command, globals, args };
}

function isCliCommand(word: string): word is CliCommand {
  return (CLI_COMMANDS as readonly string[]).includes(word) && word !== 'shell';
}

function markAfterDashDash(argv: readonly string[]): string[] {
  const at = argv.indexOf('--');
  if (at === -1) return [...argv];
  return [...argv.slice(0, at), ...argv.slice(at + 1).map((a) => MARK + a)];
}

function unmark(text: string): string {
  return text.split(MARK).join('');
}

function unmarkAll(args: Record<string, unknown>): Record<string, unknown> {
  const clean = (v: unknown): unknown =>
    typeof v === 'string' ? unmark(v) : Array.isArray(v) ? v.map(clean) : v;
  return Object.fromEntries(Object.entries(args).map(([k, v]) => [k, clean(v)]));
}

function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, '; ');
}
