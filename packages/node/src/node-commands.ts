import { CommandRouter, type CommandHook, type CommandTable } from '@kv/protocol';
import { ADMIN_COMMANDS } from './admin-commands';
import { CLIENT_COMMANDS } from './client-commands';
import type { CommandContext } from './command-context';
import { PEER_COMMANDS } from './peer-commands';

/**
 * Every command a node answers, by upper-case name: what clients send, what operators send,
 * what nodes send each other. HELP and COMMAND come with the router.
 */
export const NODE_COMMANDS: CommandTable<CommandContext> = {
  ...CLIENT_COMMANDS,
  ...ADMIN_COMMANDS,
  ...PEER_COMMANDS,
};

/** The router of a node's commands, with `hooks` run before each. */
export function createNodeRouter(
  hooks: readonly CommandHook[] = [],
): CommandRouter<CommandContext> {
  // The node's wrong-arity replies have always shown the usage without a `usage` label.
  return new CommandRouter(NODE_COMMANDS, { hooks, usagePrefix: '' });
}
