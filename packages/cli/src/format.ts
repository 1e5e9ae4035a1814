import type { FallbackEvent, NodeStatus } from '@kv/client';
import type { CommandResult } from './command-runners';
import { displayKey, displayText, jsonValue } from './display';
import { SHELL_COMMANDS, type ShellCommandName } from './line-parser';

/** Title line of the interactive shell, as in the spec. */
export const BANNER_TITLE = '=== Distributed KV Store Client ===';

/** `Commands:` and one line per shell command with what it does, as in the spec's banner. */
export function formatCommandList(): string[] {
  const names = Object.keys(SHELL_COMMANDS) as ShellCommandName[];
  const width = Math.max(...names.map((n) => SHELL_COMMANDS[n].usage.length)) + 1;
  return [
    'Commands:',
    ...names.map(
      (n) => `  ${SHELL_COMMANDS[n].usage.padEnd(width)} - ${SHELL_COMMANDS[n].summary}`,
    ),
  ];
}

/** The lines `HELP` prints: the commands and how a line is read. */
export function formatHelp(): string[] {
  return [
    ...formatCommandList(),
    'Names are case-insensitive. The value of PUT is the rest of the line; put a key or',
    'value in "double quotes" for spaces at its ends or escapes such as \\n and \\xHH.',
  ];
}

/** The lines the interactive shell starts with: the spec's title and the commands. */
export function formatBanner(): string[] {
  return [BANNER_TITLE, ...formatCommandList(), ''];
}

/**
 * The human-readable lines of a command's result, in the spec's shapes:
 *
 * - `[Client] PUT user:1 = Alice [primary: 127.0.0.1:5001, replicas: [127.0.0.1:5002, 127.0.0.1:5003]]`
 * - `[Client] GET user:1 = Alice`, `... = Alice (from replica 127.0.0.1:5003)`,
 *   `[Client] GET user:1 not found`
 * - `[Client] DELETE user:1 [primary: 127.0.0.1:5001]`,
 *   `[Client] DELETE user:1 not found [primary: 127.0.0.1:5001]`
 * - `OK Nodes:` then one `  host:port  state` line per node (with `zone=z` if it has one)
 */
export function formatResult(result: CommandResult): string[] {
  switch (result.kind) {
    case 'put': {
      const ttl = result.ttlMs === undefined ? '' : ` [ttl: ${formatDuration(result.ttlMs)}]`;
      return [
        `[Client] PUT ${displayKey(result.key)} = ${displayText(result.value)} ` +
          `[primary: ${result.primary}, replicas: [${result.replicas.join(', ')}]]${ttl}`,
      ];
    }
    case 'get': {
      const key = displayKey(result.key);
      if (result.value === null) return [`[Client] GET ${key} not found`];
      const from = result.fromReplica ? ` (from replica ${result.node})` : '';
      return [`[Client] GET ${key} = ${displayText(result.value)}${from}`];
    }
    case 'delete':
      return [
        `[Client] DELETE ${displayKey(result.key)}${result.existed ? '' : ' not found'} ` +
          `[primary: ${result.primary}]`,
      ];
    case 'nodes':
      return formatNodeList(result.nodes);
    case 'help':
      return formatHelp();
    case 'exit':
      return ['Goodbye!'];
  }
}

/** `OK Nodes:` and one line per node, addresses aligned. */
export function formatNodeList(nodes: readonly NodeStatus[]): string[] {
  if (nodes.length === 0) return ['OK Nodes:', '  (none)'];
  const width = Math.max(...nodes.map((n) => n.id.length));
  return [
    'OK Nodes:',
    ...nodes.map(
      (n) => `  ${n.id.padEnd(width)}  ${n.state}${n.zone === '' ? '' : `  zone=${n.zone}`}`,
    ),
  ];
}

/** The line printed when the client falls back from a failed primary (the spec's words for GET). */
export function formatFallback(event: FallbackEvent): string {
  return event.command.toUpperCase() === 'GET'
    ? '[Client] Primary node failed, trying replicas...'
    : '[Client] Primary node failed, trying another node...';
}

/**
 * A command's result as one JSON-serialisable document, for `--json`. Values are UTF-8
 * strings, or base64 with `"encoding": "base64"` when they are not UTF-8.
 */
export function resultToJson(result: CommandResult): Record<string, unknown> {
  switch (result.kind) {
    case 'put':
      return {
        command: 'PUT',
        key: result.key,
        ...jsonValue(result.value),
        primary: result.primary,
        replicas: result.replicas,
        ttlMs: result.ttlMs ?? null,
      };
    case 'get':
      return {
        command: 'GET',
        key: result.key,
        found: result.value !== null,
        ...(result.value === null ? { value: null } : jsonValue(result.value)),
        node: result.node,
        primary: result.primary,
        fromReplica: result.fromReplica,
      };
    case 'delete':
      return {
        command: 'DELETE',
        key: result.key,
        deleted: result.existed,
        primary: result.primary,
      };
    case 'nodes':
      return { command: 'LIST_NODES', nodes: result.nodes };
    case 'help':
      return {
        command: 'HELP',
        commands: (Object.keys(SHELL_COMMANDS) as ShellCommandName[]).map((name) => ({
          name,
          usage: SHELL_COMMANDS[name].usage,
          summary: SHELL_COMMANDS[name].summary,
        })),
      };
    case 'exit':
      return { command: 'EXIT' };
  }
}

/** The JSON document `--json` prints for a failed command. */
export function errorToJson(err: Error, exitCode: number): Record<string, unknown> {
  const code = (err as { code?: unknown }).code;
  return {
    error: {
      name: err.name,
      ...(typeof code === 'string' ? { code } : {}),
      message: oneLine(err.message),
      exitCode,
    },
  };
}

/** The line `kv` prints on stderr for an expected failure. */
export function formatError(err: Error): string {
  return `kv: ${oneLine(err.message)}`;
}

/** `60s` for whole seconds, `1500ms` otherwise. */
export function formatDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, '; ');
}
