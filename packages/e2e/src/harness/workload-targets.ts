import type { KvClient, RequestOptions } from '@kv/client';
import { ReplyError, RespConnection, type RespValue } from '@kv/protocol';
import type { Cluster, ClusterNode } from './cluster';
import type { WriteOutcome } from './history-checker';
import { text } from './resp';

/** What an operation of the workload returned, or how it failed. */
export type Result<T> = { ok: true; value: T } | { ok: false; outcome: WriteOutcome; error: Error };

/** Where a workload client sends its operations. */
export interface WorkloadTarget {
  readonly name: string;
  put(key: string, value: string): Promise<Result<void>>;
  delete(key: string): Promise<Result<void>>;
  get(key: string): Promise<Result<string | null>>;
  close(): Promise<void>;
}

/**
 * Through @kv/client, which routes to the key's primary and falls back and retries on its
 * own: any error may hide an attempt that still takes effect later, so errors are
 * `unknown`.
 */
export class ClientTarget implements WorkloadTarget {
  /**
   * @param requestOptions - made afresh for each operation, e.g. an `AbortSignal.timeout`
   *   that bounds it, retries included
   */
  constructor(
    readonly name: string,
    private readonly client: KvClient,
    private readonly requestOptions: () => RequestOptions = () => ({}),
  ) {}

  private async run<T>(action: () => Promise<T>): Promise<Result<T>> {
    try {
      return { ok: true, value: await action() };
    } catch (err) {
      return { ok: false, outcome: 'unknown', error: err as Error };
    }
  }

  put(key: string, value: string): Promise<Result<void>> {
    return this.run(() => this.client.put(key, value, this.requestOptions()));
  }

  delete(key: string): Promise<Result<void>> {
    return this.run(async () => {
      await this.client.delete(key, this.requestOptions());
    });
  }

  get(key: string): Promise<Result<string | null>> {
    return this.run(() => this.client.getString(key, this.requestOptions()));
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

/**
 * One connection to one node, which coordinates every request (like redis-cli pointed at
 * a node). An error reply is a definite failure; a lost connection or a timeout is
 * `unknown`, and the target moves on to the next running node of the cluster.
 */
export class PinnedTarget implements WorkloadTarget {
  private connection: Promise<RespConnection> | undefined;

  constructor(
    readonly name: string,
    private readonly cluster: Cluster,
    private node: ClusterNode,
    private readonly timeouts = { connectTimeoutMs: 2000, requestTimeoutMs: 5000 },
  ) {}

  get nodeId(): string {
    return this.node.id;
  }

  private async send(args: string[]): Promise<Result<RespValue>> {
    try {
      this.connection ??= RespConnection.connect({
        ...this.node.endpoint,
        ...this.timeouts,
      });
      return { ok: true, value: await (await this.connection).send(args) };
    } catch (err) {
      if (err instanceof ReplyError) return { ok: false, outcome: 'failed', error: err };
      this.switchNode();
      return { ok: false, outcome: 'unknown', error: err as Error };
    }
  }

  private switchNode(): void {
    const old = this.connection;
    this.connection = undefined;
    void old?.then((c) => c.destroy()).catch(() => undefined);
    const running = this.cluster.runningNodes();
    const next = running[(running.indexOf(this.node) + 1) % running.length] ?? running[0];
    if (next) this.node = next;
  }

  async put(key: string, value: string): Promise<Result<void>> {
    const result = await this.send(['PUT', key, value]);
    return result.ok ? { ok: true, value: undefined } : result;
  }

  async delete(key: string): Promise<Result<void>> {
    const result = await this.send(['DELETE', key]);
    return result.ok ? { ok: true, value: undefined } : result;
  }

  async get(key: string): Promise<Result<string | null>> {
    const result = await this.send(['GET', key]);
    return result.ok ? { ok: true, value: text(result.value) } : result;
  }

  async close(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    (await connection?.catch(() => undefined))?.destroy();
  }
}
