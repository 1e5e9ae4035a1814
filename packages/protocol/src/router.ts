import {
  quoteArg,
  type CommandHook,
  type CommandSpec,
  type CommandTable,
  type RoutedCommand,
} from './command';
import { ErrorCode, ReplyError } from './errors';
import { introspectionCommands } from './introspection';
import type { ServerConnection } from './server';
import type { Reply } from './types';

/** Slots of a router's cache of names as sent (a power of two). */
const RECENT_SLOTS = 64;
/** Longer names are not cached: no command's name is this long. */
const MAX_RECENT_NAME = 32;

/** Options of {@link CommandRouter}. */
export interface CommandRouterOptions {
  /** Hooks run before every command; more can be added with {@link CommandRouter.addHook}. */
  hooks?: readonly CommandHook[];
  /**
   * Put before the usage line in the reply to a wrong number of arguments. Each server keeps
   * the wording its protocol reference has always documented: the coordinator's says
   * `... for 'HEARTBEAT': usage HEARTBEAT host port`, the node's `... for 'GET': GET key [R n]`.
   * @default 'usage '
   */
  usagePrefix?: string;
}

/**
 * One server's commands, looked up by name (case-insensitively) in a Map, checked for
 * arity, passed through the hooks and run. Every router also answers `HELP` and `COMMAND`,
 * built from the same declarations, unless the table declares its own.
 *
 * @example
 * ```ts
 * const router = new CommandRouter(COMMANDS, { hooks: [countCalls] });
 * createRespServer({ handler: (args, connection) => router.dispatch(args, context, connection) });
 * ```
 */
export class CommandRouter<C> {
  /** Every command once, under its canonical name: the table's, then HELP and COMMAND. */
  readonly commands: readonly RoutedCommand<C>[];
  /** Every name answered, aliases included, in declaration order. */
  readonly names: readonly string[];
  private readonly routes = new Map<string, RoutedCommand<C>>();
  private readonly hooks: CommandHook[];
  /**
   * Names looked up lately, as the bytes sent, by a hash of their length and ends: a
   * request whose name is there is routed without making a string of it.
   */
  private readonly recent = new Array<{ name: Buffer; command: RoutedCommand<C> } | undefined>(
    RECENT_SLOTS,
  );
  private readonly usagePrefix: string;

  /** @throws Error when a name or alias is declared twice or is not upper case */
  constructor(table: CommandTable<C>, options: CommandRouterOptions = {}) {
    this.hooks = [...(options.hooks ?? [])];
    this.usagePrefix = options.usagePrefix ?? 'usage ';
    const builtIn = introspectionCommands(this);
    const declared: [string, CommandSpec<C>][] = Object.entries(table);
    for (const [name, spec] of Object.entries(builtIn)) {
      if (!Object.hasOwn(table, name)) declared.push([name, spec]);
    }
    this.commands = declared.map(([name, spec]) => ({ name, canonical: name, spec }));
    for (const command of this.commands) {
      this.add(command);
      for (const alias of command.spec.aliases ?? []) this.add({ ...command, name: alias });
    }
    this.names = [...this.routes.keys()];
  }

  /** Adds a hook that runs after those already there. */
  addHook(hook: CommandHook): void {
    this.hooks.push(hook);
  }

  /** The command a name runs (any case), or undefined. */
  lookup(name: string): RoutedCommand<C> | undefined {
    // Clients send command names in upper case nearly always: look that up before folding.
    return this.routes.get(name) ?? this.routes.get(name.toUpperCase());
  }

  /**
   * Serves one request: `-ERR unknown command` for a name no command has, `-WRONGARGS` for
   * a wrong number of arguments; otherwise the hooks run, then the command. What the hooks
   * and the command throw propagates, and the RESP server answers it.
   */
  dispatch(args: Buffer[], context: C, connection: ServerConnection): Reply | Promise<Reply> {
    const nameArg = args[0] as Buffer;
    const command = this.lookupBytes(nameArg);
    if (command === undefined) {
      return new ReplyError(`${ErrorCode.ERR} unknown command ${quoteArg(nameArg)}`);
    }
    const spec = command.spec;
    const count = args.length - 1;
    if (count < spec.arity[0] || count > spec.arity[1]) {
      return new ReplyError(
        `${ErrorCode.WRONGARGS} wrong number of arguments for ${quoteArg(nameArg)}: ${this.usagePrefix}${spec.usage}`,
      );
    }
    const hooks = this.hooks;
    for (let i = 0; i < hooks.length; i++) (hooks[i] as CommandHook)(command, args, connection);
    return spec.run(args, context, connection);
  }

  /** {@link lookup} of a name as sent, through {@link recent}. */
  private lookupBytes(name: Buffer): RoutedCommand<C> | undefined {
    const length = name.length;
    if (length === 0 || length > MAX_RECENT_NAME) return this.lookup(name.toString('latin1'));
    const slot =
      (length * 31 + (name[0] as number) * 7 + (name[length - 1] as number)) & (RECENT_SLOTS - 1);
    const hit = this.recent[slot];
    if (hit !== undefined && hit.name.length === length) {
      const known = hit.name;
      let i = 0;
      while (i < length && known[i] === name[i]) i++;
      if (i === length) return hit.command;
    }
    const command = this.lookup(name.toString('latin1'));
    // Only names that route are kept: unknown ones cannot crowd out the ones in use.
    if (command !== undefined) this.recent[slot] = { name: Buffer.from(name), command };
    return command;
  }

  private add(command: RoutedCommand<C>): void {
    if (command.name !== command.name.toUpperCase())
      throw new Error(`command name ${command.name} must be upper case`);
    if (this.routes.has(command.name))
      throw new Error(`command name ${command.name} is declared twice`);
    this.routes.set(command.name, command);
  }
}
