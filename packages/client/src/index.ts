/**
 * @packageDocumentation
 * The kv smart client. It fetches the consistent-hash ring from the coordinator once and
 * sends each request straight to the key's primary node (placement computed locally with
 * `@kv/ring`), over one pooled, pipelined connection per node. When the primary is down it
 * falls back to the key's replicas in preference order; it refreshes the ring periodically
 * and whenever a node is unreachable, retries with backoff, and keeps working with the
 * ring it has while the coordinator is down. Given seeds (any members), it also starts
 * without a coordinator: every node answers `RING`.
 *
 * @example
 * ```ts
 * import { createClient } from '@kv/client';
 *
 * const client = createClient({ coordinator: '127.0.0.1:5000' });
 * await client.put('user:1', 'Alice', { ttlMs: 60_000 });
 * const entry = await client.getEntry('user:1');
 * console.log(entry.value?.toString(), 'from', entry.node); // Alice from 127.0.0.1:5001
 * await client.close();
 * ```
 */
export { KvClient, createClient } from './client';
export type { Entry, KeyPlacement, Placement } from './key-results';
export {
  DEFAULT_CLIENT_OPTIONS,
  type ClientOptions,
  type ClientTlsOptions,
  type RequestOptions,
  type PutOptions,
  type GetOptions,
  type DeleteOptions,
  type WriteOptions,
} from './options';
export type { FallbackEvent, RingChangeEvent, ClientEvents } from './events';
export type { NodeStatus } from './node-status';
export { type RingSnapshot } from './ring-source';
export { SourceRole, type SourceAttempt } from './source-attempt';
export {
  parseInfo,
  parseInfoSections,
  parseNodeInfo,
  keysOf,
  type NodeInfo,
  type RebalanceInfo,
} from './info';
export { notServing, type WaitOptions, type ServingSource } from './serving';
export {
  ClientError,
  InvalidClientOptionError,
  CoordinatorUnreachableError,
  NoNodesError,
  ClusterUnavailableError,
  ClientClosedError,
  NotServingError,
  PartialWriteError,
  type NodeFailure,
  type KeysFailure,
} from './errors';
export {
  ReplyError,
  UnreachableError,
  RequestTimeoutError,
  AuthenticationError,
  ErrorCode,
  TlsConfigError,
} from '@kv/protocol';
