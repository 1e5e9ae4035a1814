/**
 * @packageDocumentation
 * The `kv` command line of the kv distributed key-value store: the spec's interactive
 * shell (`PUT key value`, `GET key`, `DELETE key`, `LIST_NODES`), single commands
 * (`kv --command "PUT user:1 Alice"`, `kv get user:1`), `kv status` (every node's state,
 * keys, ops/s and ring share), `kv coordinator` / `kv node` to run the servers, and
 * `kv cluster` to run a whole local cluster as child processes.
 *
 * The building blocks are exported for tools that want the same grammar and output.
 *
 * @example
 * ```ts
 * import { parseShellLine, formatResult, executeCommand } from '@kv/cli';
 * import { createClient } from '@kv/client';
 *
 * const client = createClient({ coordinator: '127.0.0.1:5000' });
 * await client.connect();
 * const command = parseShellLine('PUT user:1 Alice Smith');
 * if (command) console.log(formatResult(await executeCommand(async () => client, command)));
 * await client.close();
 * ```
 */
export { runCli, main, type CliIo } from './cli';
export {
  parseCommandLine,
  DEFAULT_COORDINATOR,
  type GlobalOptions,
  type Invocation,
  type CliCommand,
} from './cli-parser';
export {
  parseShellLine,
  canonicalCommandName,
  SHELL_COMMANDS,
  type ShellCommand,
  type ShellCommandName,
  type ShellCommandSpec,
} from './line-parser';
export {
  executeCommand,
  exitCodeOfResult,
  type CommandResult,
  type DataClient,
  type ExecuteOptions,
} from './command-runners';
export {
  formatResult,
  formatNodeList,
  formatFallback,
  formatHelp,
  formatBanner,
  formatError,
  resultToJson,
  errorToJson,
  BANNER_TITLE,
} from './format';
export { displayText, displayKey, jsonValue } from './display';
export { ExitCode, exitCodeFor, isExpectedError } from './exit-codes';
export { Printer } from './printer';
export { runLine, runCommand, type LineContext, type LineOutcome } from './run-line';
export { runShell, PROMPT, type ShellOptions } from './shell';
export { completeLine } from './completion';
export { HistoryFile, historyFilePath, HISTORY_SIZE } from './history';
export { ClientSession, type SessionOptions } from './session';
export {
  gatherStatus,
  opsPerSecond,
  type ClusterStatus,
  type NodeReport,
  type StatusSource,
  type GatherOptions,
  type InfoSample,
} from './status';
export { formatStatusTable, formatPercent, formatRate } from './status-table';
export { LocalCluster } from './cluster';
export { CLUSTER_HOST, MAX_CLUSTER_NODES, type LocalClusterOptions } from './cluster-options';
export { runClusterCommand } from './cluster-command';
export { LineSplitter, MAX_LINE_LENGTH } from './line-splitter';
export { assertPortsFree, tryListen } from './ports';
export { runServer, isServerCommand, SERVER_COMMANDS, type ServerCommand } from './servers';
export {
  CliError,
  UsageError,
  PortInUseError,
  ProcessExitedError,
  ClusterStartTimeoutError,
  StartInterruptedError,
} from './errors';
