import type { Entry, FallbackEvent, KeyPlacement, NodeStatus } from '@kv/client';
import { ExitCode } from './exit-codes';
import type { ShellCommand, ShellCommandName } from './line-parser';

/** The part of the `@kv/client` client the data commands use. */
export interface DataClient {
  put(key: string, value: string | Buffer, options?: { ttlMs?: number }): Promise<void>;
  getEntry(key: string): Promise<Entry>;
  delete(key: string): Promise<boolean>;
  nodesForKey(key: string): Promise<KeyPlacement>;
  listNodes(options?: { all?: boolean }): Promise<NodeStatus[]>;
  on(event: 'fallback', listener: (event: FallbackEvent) => void): unknown;
  off(event: 'fallback', listener: (event: FallbackEvent) => void): unknown;
}

/** What a command did, for the formatters in `format.ts`. */
export type CommandResult =
  | {
      readonly kind: 'put';
      readonly key: string;
      readonly value: Buffer;
      readonly primary: string;
      readonly replicas: readonly string[];
      /** Time to live given with the write, if any. */
      readonly ttlMs: number | undefined;
    }
  | {
      readonly kind: 'get';
      readonly key: string;
      /** The value, or null if the key does not exist. */
      readonly value: Buffer | null;
      /** The node that answered. */
      readonly node: string;
      readonly primary: string;
      /** Whether a node other than the primary answered because the primary failed. */
      readonly fromReplica: boolean;
    }
  | {
      readonly kind: 'delete';
      readonly key: string;
      /** Whether the key held a value. */
      readonly existed: boolean;
      readonly primary: string;
    }
  | { readonly kind: 'nodes'; readonly nodes: readonly NodeStatus[] }
  | { readonly kind: 'help' }
  | { readonly kind: 'exit' };

/** Options of {@link executeCommand}. */
export interface ExecuteOptions {
  /** Expiry of a PUT, in milliseconds. */
  readonly ttlMs?: number;
  /**
   * Called when the client falls back from a failed primary to another node during the
   * command, once per command (the first fallback), so a user sees the spec's
   * "Primary node failed, trying replicas..." before the result.
   */
  readonly onFallback?: (event: FallbackEvent) => void;
}

type Runner<N extends ShellCommandName> = (
  client: () => Promise<DataClient>,
  command: Extract<ShellCommand, { name: N }>,
  options: ExecuteOptions,
) => Promise<CommandResult>;

const RUNNERS: { readonly [N in ShellCommandName]: Runner<N> } = {
  PUT: async (client, { key, value }, { ttlMs, onFallback }) => {
    const c = await client();
    await withFallbackReport(c, onFallback, () => c.put(key, value, ttlMs ? { ttlMs } : {}));
    const { primary, replicas } = await c.nodesForKey(key);
    return { kind: 'put', key, value, primary, replicas, ttlMs };
  },
  GET: async (client, { key }, { onFallback }) => {
    const c = await client();
    const entry = await withFallbackReport(c, onFallback, () => c.getEntry(key));
    return { kind: 'get', key, ...entry };
  },
  DELETE: async (client, { key }, { onFallback }) => {
    const c = await client();
    const existed = await withFallbackReport(c, onFallback, () => c.delete(key));
    const { primary } = await c.nodesForKey(key);
    return { kind: 'delete', key, existed, primary };
  },
  LIST_NODES: async (client, { all }) => {
    const nodes = await (await client()).listNodes({ all });
    return { kind: 'nodes', nodes };
  },
  HELP: () => Promise.resolve({ kind: 'help' }),
  EXIT: () => Promise.resolve({ kind: 'exit' }),
};

/**
 * Runs one shell command. The client is asked for only when the command needs the
 * cluster, so `HELP` and `EXIT` work while the coordinator is down.
 *
 * @param client - gives the connected client (connecting on first use)
 * @throws whatever the client throws: `@kv/client` errors, or a `ReplyError` from a node
 */
export function executeCommand(
  client: () => Promise<DataClient>,
  command: ShellCommand,
  options: ExecuteOptions = {},
): Promise<CommandResult> {
  const run = RUNNERS[command.name] as Runner<ShellCommandName>;
  return run(client, command, options);
}

/** {@link ExitCode.NOT_FOUND} for a GET or DELETE of a missing key, else {@link ExitCode.OK}. */
export function exitCodeOfResult(result: CommandResult): ExitCode {
  if (result.kind === 'get' && result.value === null) return ExitCode.NOT_FOUND;
  if (result.kind === 'delete' && !result.existed) return ExitCode.NOT_FOUND;
  return ExitCode.OK;
}

async function withFallbackReport<T>(
  client: DataClient,
  onFallback: ((event: FallbackEvent) => void) | undefined,
  operation: () => Promise<T>,
): Promise<T> {
  if (!onFallback) return operation();
  let reported = false;
  const listener = (event: FallbackEvent): void => {
    if (reported) return;
    reported = true;
    onFallback(event);
  };
  client.on('fallback', listener);
  try {
    return await operation();
  } finally {
    client.off('fallback', listener);
  }
}
