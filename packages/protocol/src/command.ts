import type { ServerConnection } from './server';
import type { Reply } from './types';

/**
 * Who may send a command. `client`: anyone using the store (reads, writes, introspection);
 * `peer`: only other nodes of the cluster (replication, data movement); `admin`: membership
 * and operations that change the cluster (registering, leaving, decommissioning).
 */
export const Scope = {
  client: 'client',
  peer: 'peer',
  admin: 'admin',
} as const;

/** One of the {@link Scope} values. */
export type Scope = (typeof Scope)[keyof typeof Scope];

/**
 * What a `client` command needs of an authenticated user when users are configured:
 * `open` runs before authentication (PING, AUTH, QUIT, the member challenge), `read` is
 * allowed to read-only users, `write` needs a read-write or admin user. Commands of the
 * other scopes do not use it (only members, and admin users for `admin`, may send them).
 */
export const Access = {
  open: 'open',
  read: 'read',
  write: 'write',
} as const;

/** One of the {@link Access} values. */
export type Access = (typeof Access)[keyof typeof Access];

/** A command, declared once: what the router checks, what HELP and the docs show, and its handler. */
export interface CommandSpec<C = unknown> {
  /** Who may send it. */
  readonly scope: Scope;
  /**
   * For `client` commands, what a user needs to run it. Undeclared counts as `write`, so a
   * new command is closed to read-only users until declared otherwise.
   * @default 'write'
   */
  readonly access?: Access;
  /** Fewest and most arguments after the name; `Infinity` for no limit. */
  readonly arity: readonly [min: number, max: number];
  /** The name and its arguments, e.g. `GET key [R n]`. */
  readonly usage: string;
  /** Other names that run it (upper case), e.g. Redis's `SET` for `PUT`. */
  readonly aliases?: readonly string[];
  /** What it answers, for HELP and docs/protocol.md (Markdown: `code` spans). */
  readonly reply: string;
  /** The errors that are its own (beyond unknown command and wrong arity), as `reply`. */
  readonly errors?: string;
  /**
   * Serves it. `args[0]` is the name as sent (any case); the Buffers are views into
   * received bytes, so copy what must outlive the call. Throw or reject with a `ReplyError`
   * to answer an error.
   */
  run(args: Buffer[], context: C, connection: ServerConnection): Reply | Promise<Reply>;
}

/** A server's commands by canonical upper-case name. */
export type CommandTable<C> = Readonly<Record<string, CommandSpec<C>>>;

/** A command as the router resolved it from the name a request used. */
export interface RoutedCommand<C = unknown> {
  /** The name it was called by, upper case: an alias stays itself (`SET`). */
  readonly name: string;
  /** The name it is declared under (`PUT` for `SET`). */
  readonly canonical: string;
  /** Its declaration. */
  readonly spec: CommandSpec<C>;
}

/**
 * Runs before every command that passed the name and arity checks, in the order given.
 * Throwing a `ReplyError` answers the request with it instead of running the command:
 * this is where a connection's identity is checked against `command.spec.scope`, and where
 * commands are counted.
 */
export type CommandHook = (
  command: RoutedCommand,
  args: Buffer[],
  connection: ServerConnection,
) => void;

/** An argument as error messages quote it: `'text'`, cut to 64 characters. */
export function quoteArg(arg: Buffer | string): string {
  const text = typeof arg === 'string' ? arg : arg.toString('utf8');
  return `'${text.length > 64 ? `${text.slice(0, 61)}...` : text}'`;
}
