import type { FallbackEvent } from '@kv/client';
import type { CommandResult } from './command-runners';
import { exitCodeFor, isExpectedError, type ExitCode } from './exit-codes';
import { errorToJson, formatError, formatFallback, formatResult, resultToJson } from './format';

/**
 * Where `kv`'s output goes, in human or JSON form. Results go to stdout. Errors go to
 * stderr as one line, `kv: <message>` (with the stack only for unexpected errors, which
 * are defects); with `--json` stdout also gets a JSON document describing the error, so a
 * script reading stdout always gets one document per command.
 */
export class Printer {
  private readonly stdout: NodeJS.WritableStream;
  private readonly stderr: NodeJS.WritableStream;
  /** Whether results are JSON documents (one per line) instead of the human lines. */
  readonly json: boolean;

  constructor(stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream, json: boolean) {
    this.stdout = stdout;
    this.stderr = stderr;
    this.json = json;
  }

  /** Prints lines of text on stdout. */
  lines(lines: readonly string[]): void {
    if (lines.length > 0) this.stdout.write(`${lines.join('\n')}\n`);
  }

  /** Prints one JSON document on stdout, on one line. */
  document(doc: unknown): void {
    this.stdout.write(`${JSON.stringify(doc)}\n`);
  }

  /** Prints a command's result. */
  result(result: CommandResult): void {
    if (this.json) this.document(resultToJson(result));
    else this.lines(formatResult(result));
  }

  /**
   * Reports a fallback from a failed primary: a `[Client]` line on stdout, where the
   * spec shows it; on stderr with `--json`, which keeps stdout one document.
   */
  fallback(event: FallbackEvent): void {
    const line = `${formatFallback(event)}\n`;
    if (this.json) this.stderr.write(line);
    else this.stdout.write(line);
  }

  /** Prints a warning line on stderr. */
  warn(message: string): void {
    this.stderr.write(`kv: ${message}\n`);
  }

  /**
   * Reports a failure.
   * @returns the exit code it maps to
   */
  error(err: unknown): ExitCode {
    const code = exitCodeFor(err);
    if (isExpectedError(err)) {
      this.stderr.write(`${formatError(err)}\n`);
    } else {
      const stack = err instanceof Error ? (err.stack ?? err.message) : String(err);
      this.stderr.write(`kv: unexpected error: ${stack}\n`);
    }
    if (this.json) {
      const error = err instanceof Error ? err : new Error(String(err));
      this.document(errorToJson(error, code));
    }
    return code;
  }
}
