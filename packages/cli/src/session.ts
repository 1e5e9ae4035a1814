import { createClient, type KvClient } from '@kv/client';
import type { Credentials, TlsClientOptions } from '@kv/protocol';
import { clientOptionsOf } from './cli-parser';

/** Options of {@link ClientSession}. */
export interface SessionOptions {
  /** The coordinators, `host:port`, in the order to ask them. */
  readonly coordinators: readonly string[];
  /** Members to learn the ring from when no coordinator answers. */
  readonly seeds?: readonly string[];
  /** Connect and request timeout in milliseconds; the client's defaults when undefined. */
  readonly timeoutMs?: number | undefined;
  /** What each connection authenticates with. */
  readonly credentials?: Credentials;
  /** TLS to the coordinator and nodes; plain TCP when undefined. */
  readonly tls?: TlsClientOptions | undefined;
}

/**
 * A client connected on first use. A failed connection attempt is not remembered: the
 * next {@link ClientSession.connect} tries again with a new client, so a shell started
 * before the cluster works once the cluster is up.
 */
export class ClientSession {
  /** The coordinators, comma-separated, or the seeds when no coordinator is given: for reports. */
  readonly coordinator: string;
  private readonly options: SessionOptions;
  private readonly create: typeof createClient;
  private connecting: Promise<KvClient> | undefined;
  private closed = false;

  /**
   * @param create - makes the client; tests substitute it
   */
  constructor(options: SessionOptions, create: typeof createClient = createClient) {
    this.coordinator = (
      options.coordinators.length > 0 ? options.coordinators : (options.seeds ?? [])
    ).join(',');
    this.options = options;
    this.create = create;
  }

  /**
   * The connected client.
   * @throws what `client.connect()` throws (`CoordinatorUnreachableError`, `NoNodesError`)
   */
  connect(): Promise<KvClient> {
    if (this.closed) return Promise.reject(new Error('the session is closed'));
    this.connecting ??= this.open().catch((err: unknown) => {
      this.connecting = undefined;
      throw err;
    });
    return this.connecting;
  }

  /** Closes the client, if one was made. */
  async close(): Promise<void> {
    this.closed = true;
    const connecting = this.connecting;
    this.connecting = undefined;
    const client = await connecting?.catch(() => undefined);
    await client?.close();
  }

  private async open(): Promise<KvClient> {
    const { coordinators, seeds = [], timeoutMs, tls, credentials } = this.options;
    const client = this.create(
      clientOptionsOf({ coordinators, seeds, timeoutMs, tls, credentials }),
    );
    try {
      await client.connect();
    } catch (err) {
      await client.close().catch(() => undefined);
      throw err;
    }
    return client;
  }
}
