import { splitInline } from '@kv/protocol';
import { UsageError } from './errors';

/** A command of the shell grammar (`kv` with no arguments, and `kv --command`), parsed. */
export type ShellCommand =
  | { readonly name: 'PUT'; readonly key: string; readonly value: Buffer }
  | { readonly name: 'GET'; readonly key: string }
  | { readonly name: 'DELETE'; readonly key: string }
  | { readonly name: 'LIST_NODES'; readonly all: boolean }
  | { readonly name: 'HELP' }
  | { readonly name: 'EXIT' };

/** The name of a shell command: `PUT`, `GET`, `DELETE`, `LIST_NODES`, `HELP` or `EXIT`. */
export type ShellCommandName = ShellCommand['name'];

/** What `HELP`, the banner and tab completion know about a shell command. */
export interface ShellCommandSpec {
  /** The grammar, as printed by `HELP`. */
  readonly usage: string;
  /** One line saying what it does. */
  readonly summary: string;
  /** Other names accepted for it (the Redis names, as the servers accept them). */
  readonly aliases: readonly string[];
  /** Builds the command from the text after its name (already trimmed). */
  readonly parse: (rest: string) => ShellCommand;
}

/**
 * Every shell command, in the order `HELP` lists them. The spec's names are canonical;
 * `SET`, `DEL` and `QUIT` are accepted too, as the servers accept the Redis names.
 */
export const SHELL_COMMANDS: { readonly [N in ShellCommandName]: ShellCommandSpec } = {
  PUT: {
    usage: 'PUT key value',
    summary: 'Store a key-value pair',
    aliases: ['SET'],
    parse: (rest) => {
      const key = takeWord(rest);
      const value = key ? valueOf(rest.slice(key.end).trim()) : undefined;
      if (!key || !value) throw arityError('PUT');
      return { name: 'PUT', key: key.text.toString(), value };
    },
  },
  GET: {
    usage: 'GET key',
    summary: 'Retrieve a value',
    aliases: [],
    parse: (rest) => ({ name: 'GET', key: singleKey('GET', rest) }),
  },
  DELETE: {
    usage: 'DELETE key',
    summary: 'Delete a key-value pair',
    aliases: ['DEL'],
    parse: (rest) => ({ name: 'DELETE', key: singleKey('DELETE', rest) }),
  },
  LIST_NODES: {
    usage: 'LIST_NODES [ALL]',
    summary: 'List all registered nodes (ALL: also recently dead ones)',
    aliases: [],
    parse: (rest) => {
      const words = wordsOf(rest).map((w) => w.toString().toUpperCase());
      if (words.length > 1 || (words.length === 1 && words[0] !== 'ALL')) {
        throw arityError('LIST_NODES');
      }
      return { name: 'LIST_NODES', all: words.length === 1 };
    },
  },
  HELP: {
    usage: 'HELP',
    summary: 'Show this help',
    aliases: [],
    parse: (rest) => {
      if (rest !== '') throw arityError('HELP');
      return { name: 'HELP' };
    },
  },
  EXIT: {
    usage: 'EXIT',
    summary: 'Exit the shell (or Ctrl-D)',
    aliases: ['QUIT'],
    parse: (rest) => {
      if (rest !== '') throw arityError('EXIT');
      return { name: 'EXIT' };
    },
  },
};

/** Canonical names first, then aliases, upper case, each mapped to its canonical name. */
const NAMES: ReadonlyMap<string, ShellCommandName> = new Map(
  (Object.keys(SHELL_COMMANDS) as ShellCommandName[]).flatMap((name) => [
    [name, name] as const,
    ...SHELL_COMMANDS[name].aliases.map((alias) => [alias, name] as const),
  ]),
);

/**
 * Parses one line of the shell grammar.
 *
 * - The command name is case-insensitive (`put`, `Put`, `PUT`; also `SET`, `DEL`, `QUIT`).
 * - `PUT key value`: the value is the rest of the line, so `PUT user:1 Alice Smith` stores
 *   `Alice Smith` and `PUT k {"a": 1}` stores `{"a": 1}`. A value that is one quoted
 *   string, `PUT k "  two\nlines  "`, is unquoted with redis-cli's escapes (`\n \r \t \b
 *   \a \" \\ \xHH`), which keeps leading and trailing spaces and allows any byte.
 * - Keys (and other words) are separated by spaces; a word that starts with `"` or `'` is
 *   a quoted string with the same escapes, so keys may hold spaces.
 * - Surrounding whitespace and a trailing `\r` are ignored; an empty line or one starting
 *   with `#` is nothing to do.
 *
 * @returns the command, or `null` for an empty line or a comment
 * @throws {@link UsageError} for an unknown command, wrong arguments or unbalanced quotes
 */
export function parseShellLine(line: string): ShellCommand | null {
  const trimmed = line.trim();
  if (trimmed === '' || trimmed.startsWith('#')) return null;
  const space = trimmed.search(/\s/);
  const word = space === -1 ? trimmed : trimmed.slice(0, space);
  const rest = space === -1 ? '' : trimmed.slice(space).trim();
  const name = NAMES.get(word.toUpperCase());
  if (name === undefined) {
    throw new UsageError(
      `unknown command '${word}' (commands: ${Object.keys(SHELL_COMMANDS).join(', ')})`,
    );
  }
  return SHELL_COMMANDS[name].parse(rest);
}

/** The canonical name of a command name or alias in any case, or undefined. */
export function canonicalCommandName(word: string): ShellCommandName | undefined {
  return NAMES.get(word.toUpperCase());
}

function arityError(name: ShellCommandName): UsageError {
  return new UsageError(
    `wrong number of arguments for '${name}': usage ${SHELL_COMMANDS[name].usage}`,
  );
}

function singleKey(name: ShellCommandName, rest: string): string {
  const words = wordsOf(rest);
  if (words.length !== 1) throw arityError(name);
  return (words[0] as Buffer).toString();
}

/** The value of PUT: one quoted string, unquoted; otherwise the text as typed. */
function valueOf(rest: string): Buffer | undefined {
  if (rest === '') return undefined;
  if (isQuote(rest[0])) {
    try {
      const word = takeWord(rest);
      if (word && rest.slice(word.end).trim() === '') return word.text;
    } catch {
      // Not a well-formed quoted string: the spec's rule (rest of the line) applies.
    }
  }
  return Buffer.from(rest);
}

function wordsOf(rest: string): Buffer[] {
  const words: Buffer[] = [];
  let text = rest;
  for (let word = takeWord(text); word; word = takeWord(text)) {
    words.push(word.text);
    text = text.slice(word.end);
  }
  return words;
}

interface Word {
  /** The word, unquoted. */
  readonly text: Buffer;
  /** Index in the input just past the word. */
  readonly end: number;
}

/**
 * The first word of `text` (after any whitespace), or undefined if there is none. A word
 * starting with a quote runs to the matching quote, which must be followed by whitespace
 * or the end, and is unescaped as an inline command argument; any other word runs to the
 * next whitespace and is taken as typed.
 */
function takeWord(text: string): Word | undefined {
  const start = text.search(/\S/);
  if (start === -1) return undefined;
  const quote = text[start];
  if (!isQuote(quote)) {
    const space = text.slice(start).search(/\s/);
    const end = space === -1 ? text.length : start + space;
    return { text: Buffer.from(text.slice(start, end)), end };
  }
  let i = start + 1;
  // As in splitInline: in "..." a backslash escapes any character, in '...' only a quote.
  while (i < text.length && text[i] !== quote) {
    i += text[i] === '\\' && (quote === '"' || text[i + 1] === "'") ? 2 : 1;
  }
  if (i >= text.length) throw new UsageError('unbalanced quotes: a quoted word has no end');
  const end = i + 1;
  if (end < text.length && !/\s/.test(text[end] as string)) {
    throw new UsageError('a closing quote must be followed by a space');
  }
  // splitInline knows redis-cli's escapes; the quoted word alone is exactly one argument.
  const [unquoted] = splitInline(Buffer.from(text.slice(start, end)));
  return { text: unquoted ?? Buffer.alloc(0), end };
}

function isQuote(c: string | undefined): boolean {
  return c === '"' || c === "'";
}
