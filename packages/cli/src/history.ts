import { readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Most lines the shell keeps in its history file. */
export const HISTORY_SIZE = 1000;

/**
 * Where the shell keeps its history: `$KV_HISTORY_FILE`, or `~/.kv_history`. Set
 * `KV_HISTORY_FILE=/dev/null` to keep none.
 */
export function historyFilePath(
  env: Readonly<Record<string, string | undefined>>,
  home: () => string = homedir,
): string {
  const fromEnv = env['KV_HISTORY_FILE'];
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : join(home(), '.kv_history');
}

/**
 * The shell's history file: one command per line, oldest first (as bash writes it),
 * at most {@link HISTORY_SIZE} lines. A history that cannot be read or written never stops
 * the shell: the first problem is reported through `warn` and the shell goes on.
 */
export class HistoryFile {
  /** Path of the file. */
  readonly path: string;
  private readonly size: number;
  private readonly warn: (message: string) => void;
  private warned = false;

  /**
   * @param warn - told about the first failure to read or write the file
   */
  constructor(path: string, warn: (message: string) => void, size = HISTORY_SIZE) {
    this.path = path;
    this.warn = warn;
    this.size = size;
  }

  /** The saved lines, newest first (the order readline's `history` option takes). */
  load(): string[] {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.report('read', err);
      return [];
    }
    return text
      .split(/\r?\n/)
      .filter((line) => line.trim() !== '')
      .slice(-this.size)
      .reverse();
  }

  /**
   * Replaces the file with `history`.
   * @param history - lines newest first, as readline's `history` event gives them
   */
  save(history: readonly string[]): void {
    const lines = history.slice(0, this.size).reverse();
    try {
      // Owner-only: values typed at the shell may be secrets.
      writeFileSync(this.path, lines.length === 0 ? '' : `${lines.join('\n')}\n`, {
        mode: 0o600,
      });
    } catch (err) {
      this.report('write', err);
    }
  }

  private report(what: 'read' | 'write', err: unknown): void {
    if (this.warned) return;
    this.warned = true;
    const code = (err as NodeJS.ErrnoException).code;
    this.warn(
      `cannot ${what} the history file ${this.path}${code ? ` (${code})` : ''}; ` +
        'the shell works without it (set KV_HISTORY_FILE to use another file)',
    );
  }
}
