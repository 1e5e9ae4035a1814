import type { KvClient, RequestOptions } from '@kv/client';
import { ReplyError, RespConnection, type RespValue } from '@kv/protocol';
import type { Cluster, ClusterNode } from './cluster';
import type { WriteOutcome } from './history-checker';
import { text } from './resp';

/**
 * What an operation of the workload returned, or how it failed; with the node that
 * coordinated it, when the target knows.
 */
export type Result<T> = (
  { ok: true; value: T } | { ok: false; outcome: WriteOutcome; error: Error }
) & { node?: string };

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

  async get(key: string): Promise<Result<string | null>> {
    const result = await this.run(() => this.client.getEntry(key, this.requestOptions()));
    if (!result.ok) return result;
    const { value, node } = result.value;
    return { ok: true, value: value?.toString('utf8') ?? null, node };
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

/** Connect and reply timeouts of a {@link NodeTarget}. */
export interface NodeTimeouts {
  readonly connectTimeoutMs: number;
  readonly requestTimeoutMs: number;
}

/**
 * Sends each request straight to a node of the cluster, which coordinates it (as
 * redis-cli pointed at a node does), over one connection per node. An error reply is a
 * definite failure; a lost connection or a timeout is `unknown`, and that connection is
 * dropped. Subclasses choose the node.
 */
abstract class NodeTarget implements WorkloadTarget {
  private readonly connections = new Map<string, Promise<RespConnection>>();

  constructor(
    readonly name: string,
    protected readonly cluster: Cluster,
    private readonly timeouts: NodeTimeouts,
  ) {}

  /** The node the next request goes to. */
  protected abstract choose(): ClusterNode;

  /** Called after `node` gave no reply. */
  protected abstract noReply(node: ClusterNode): void;

  private async send(args: string[]): Promise<Result<RespValue>> {
    const node = this.choose();
    let connection = this.connections.get(node.id);
    if (!connection) {
      connection = RespConnection.connect({ ...node.endpoint, ...this.timeouts });
      this.connections.set(node.id, connection);
    }
    try {
      return { ok: true, value: await (await connection).send(args), node: node.id };
    } catch (err) {
      if (err instanceof ReplyError)
        return { ok: false, outcome: 'failed', error: err, node: node.id };
      this.connections.delete(node.id);
      void connection.then((c) => c.destroy()).catch(() => undefined);
      this.noReply(node);
      return { ok: false, outcome: 'unknown', error: err as Error, node: node.id };
    }
  }

  async put(key: string, value: string): Promise<Result<void>> {
    const result = await this.send(['PUT', key, value]);
    return result.ok ? { ok: true, value: undefined, node: result.node } : result;
  }

  async delete(key: string): Promise<Result<void>> {
    const result = await this.send(['DELETE', key]);
    return result.ok ? { ok: true, value: undefined, node: result.node } : result;
  }

  async get(key: string): Promise<Result<string | null>> {
    const result = await this.send(['GET', key]);
    return result.ok ? { ok: true, value: text(result.value), node: result.node } : result;
  }

  async close(): Promise<void> {
    const connections = [...this.connections.values()];
    this.connections.clear();
    for (const connection of connections) (await connection.catch(() => undefined))?.destroy();
  }
}

/**
 * Every request to one node; after a request it gave no reply to, the target moves on
 * to the next running node of the cluster.
 */
export class PinnedTarget extends NodeTarget {
  constructor(
    name: string,
    cluster: Cluster,
    private node: ClusterNode,
    timeouts: NodeTimeouts = { connectTimeoutMs: 2000, requestTimeoutMs: 5000 },
  ) {
    super(name, cluster, timeouts);
  }

  get nodeId(): string {
    return this.node.id;
  }

  protected choose(): ClusterNode {
    return this.node;
  }

  protected noReply(node: ClusterNode): void {
    const running = this.cluster.runningNodes();
    this.node = running[(running.indexOf(node) + 1) % running.length] ?? running[0] ?? node;
  }
}

/**
 * Each request to a running node of the cluster picked by `random`, as a TCP load
 * balancer in front of the nodes would, so any node coordinates any key.
 */
export class BalancedTarget extends NodeTarget {
  constructor(
    name: string,
    cluster: Cluster,
    private readonly random: () => number,
    timeouts: NodeTimeouts,
  ) {
    super(name, cluster, timeouts);
  }

  protected choose(): ClusterNode {
    const running = this.cluster.runningNodes();
    const node = running[Math.floor(this.random() * running.length)] ?? this.cluster.nodes[0];
    if (!node) throw new Error(`${this.name}: the cluster has no node`);
    return node;
  }

  protected noReply(): void {
    // The next request picks a node afresh.
  }
}
