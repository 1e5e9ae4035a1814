import { Access, Scope, quoteArg, type CommandTable, type RoutedCommand } from './command';
import { ErrorCode, ReplyError } from './errors';

/** What HELP and COMMAND read from the router that serves them. */
export interface CommandIndex {
  readonly commands: readonly RoutedCommand<unknown>[];
  readonly names: readonly string[];
  lookup(name: string): RoutedCommand<unknown> | undefined;
}

/** Declarations are written for docs/protocol.md; a terminal shows them without Markdown. */
function plain(text: string): string {
  return text.replaceAll('`', '');
}

function usageLine({ spec }: RoutedCommand<unknown>): string {
  const aliases = spec.aliases?.length ? `; alias ${spec.aliases.join(', ')}` : '';
  return `${spec.usage}  (${spec.scope}${aliases})`;
}

function details(command: RoutedCommand<unknown>): string[] {
  const { spec } = command;
  const lines = [usageLine(command), `reply: ${plain(spec.reply)}`];
  if (spec.errors) lines.push(`errors: ${plain(spec.errors)}`);
  return lines;
}

/** `HELP` and `COMMAND`, answered from the declarations of the router's own commands. */
export function introspectionCommands(index: CommandIndex): CommandTable<unknown> {
  return {
    HELP: {
      scope: Scope.client,
      access: Access.read,
      arity: [0, 1],
      usage: 'HELP [command]',
      reply:
        'array of lines: each command with its scope; for one command, also its reply and errors',
      errors: "`-ERR unknown command 'NAME'`",
      run(args) {
        const name = args[1];
        if (name === undefined) return index.commands.map(usageLine);
        const command = index.lookup(name.toString('latin1'));
        if (command === undefined)
          throw new ReplyError(`${ErrorCode.ERR} unknown command ${quoteArg(name)}`);
        return details(command);
      },
    },
    // Bare COMMAND and COMMAND DOCS answer an empty array: redis-cli asks for them when it
    // starts and works without Redis's own command metadata, which kv does not invent.
    COMMAND: {
      scope: Scope.client,
      access: Access.read,
      arity: [0, Infinity],
      usage: 'COMMAND [COUNT|LIST]',
      reply:
        'empty array (so redis-cli starts); `COMMAND COUNT`: integer, the names answered, aliases included; `COMMAND LIST`: those names',
      run(args) {
        const sub = args[1]?.toString('latin1').toUpperCase();
        if (sub === 'COUNT') return index.names.length;
        if (sub === 'LIST') return [...index.names];
        return [];
      },
    },
  };
}
