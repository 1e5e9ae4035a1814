import { SHELL_COMMANDS, type ShellCommandName } from './line-parser';

const NAMES = Object.keys(SHELL_COMMANDS) as ShellCommandName[];

/**
 * Tab completion for the shell, in readline's `completer` shape: the command names that
 * start with the word typed so far (case-insensitively), in the case the user is typing
 * in. Only the command name is completed; after it there is nothing to suggest.
 *
 * @returns `[candidates, the text they complete]`
 */
export function completeLine(line: string): [string[], string] {
  const typed = line.trimStart();
  if (/\s/.test(typed)) return [[], line];
  const upper = typed.toUpperCase();
  const lower = typed !== '' && typed === typed.toLowerCase() && typed !== upper;
  const matches = NAMES.filter((name) => name.startsWith(upper)).map((name) =>
    lower ? name.toLowerCase() : name,
  );
  // A unique match gets a space after it, ready for the arguments.
  const candidates =
    matches.length === 1 ? [`${matches[0]}${hasArguments(matches[0]) ? ' ' : ''}`] : matches;
  return [candidates, typed];
}

function hasArguments(name: string | undefined): boolean {
  const spec = SHELL_COMMANDS[(name ?? '').toUpperCase() as ShellCommandName];
  return spec !== undefined && spec.usage.includes(' ');
}
