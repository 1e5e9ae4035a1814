import { createInterface, type Interface } from 'node:readline';
import type { DataClient } from './command-runners';
import { completeLine } from './completion';
import { ExitCode } from './exit-codes';
import { formatBanner } from './format';
import { HISTORY_SIZE, type HistoryFile } from './history';
import type { Printer } from './printer';
import { runLine } from './run-line';

/** The prompt of the interactive shell, as in the spec. */
export const PROMPT = '>> ';

/** Options of {@link runShell}. */
export interface ShellOptions {
  /** Where lines come from. */
  readonly input: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Where the prompt and echo go in interactive mode (the printer writes results). */
  readonly output: NodeJS.WritableStream & { isTTY?: boolean };
  readonly printer: Printer;
  /** Gives the connected client, connecting on first use. */
  readonly client: () => Promise<DataClient>;
  /**
   * Prompt, banner, line editing, tab completion and history. Piped input gets none of
   * them: the same result lines, one command per line, until end of input.
   * @default whether both input and output are terminals
   */
  readonly interactive?: boolean;
  /** History kept across sessions, in interactive mode. */
  readonly history?: HistoryFile | undefined;
}

/**
 * The interactive shell of the spec: reads commands line by line (`PUT key value`, `GET
 * key`, `DELETE key`, `LIST_NODES`, `HELP`, `EXIT`), runs each against the cluster and
 * prints its result. A bad line or a failed command prints one error line and the shell
 * goes on. Ends at `EXIT`, at end of input (Ctrl-D) or at Ctrl-C on an empty line,
 * printing `Goodbye!`.
 *
 * @returns {@link ExitCode.OK}: the shell's own failures are the commands', already printed
 */
export async function runShell(options: ShellOptions): Promise<ExitCode> {
  const { printer, output } = options;
  const interactive = options.interactive ?? Boolean(options.input.isTTY && output.isTTY);
  if (interactive) {
    printer.lines(formatBanner());
    // Connecting now tells the user at once when the cluster is not there; a failure is
    // printed and the next command tries again.
    await options.client().catch((err: unknown) => printer.error(err));
  }
  const rl = createInterface({
    input: options.input,
    output: interactive ? output : undefined,
    terminal: interactive,
    prompt: PROMPT,
    completer: interactive ? completeLine : undefined,
    history: interactive ? (options.history?.load() ?? []) : [],
    historySize: interactive ? HISTORY_SIZE : 0,
    removeHistoryDuplicates: true,
  });
  if (interactive) {
    const history = options.history;
    if (history) rl.on('history', (lines: string[]) => history.save(lines));
    rl.on('SIGINT', () => onInterrupt(rl, output));
  }
  let exited = false;
  if (interactive) rl.prompt();
  for await (const line of rl) {
    const outcome = await runLine(line, { client: options.client, printer });
    if (outcome.exit) {
      exited = true;
      break;
    }
    if (interactive) rl.prompt();
  }
  rl.close();
  if (!exited && !printer.json) {
    // After Ctrl-D the cursor is still on the prompt line.
    if (interactive) output.write('\n');
    printer.lines(['Goodbye!']);
  }
  return ExitCode.OK;
}

/** Ctrl-C clears a line being typed, as in bash; on an empty line it ends the shell. */
function onInterrupt(rl: Interface, output: NodeJS.WritableStream): void {
  if (rl.line === '') {
    rl.close();
    return;
  }
  // Leave the interrupted line visible, as bash does, then start an empty one below it:
  // Ctrl-U on a fresh row redraws the prompt with nothing after it.
  rl.write(null, { ctrl: true, name: 'e' });
  output.write('^C\n');
  rl.write(null, { ctrl: true, name: 'u' });
}
