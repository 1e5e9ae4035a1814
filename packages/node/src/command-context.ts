import type { AccessControl } from '@kv/protocol';
import type { MemoryLimit } from './memory-limit';
import type { PeerContext } from './peer-commands';
import type { QuorumOperations } from './quorum-operations';
import type { ScanCursors } from './scan';
import type { Store } from './store';

/** What command handlers need from the node. */
export interface CommandContext extends PeerContext {
  readonly store: Store;
  /** Reads and writes on the key's replicas. */
  readonly quorum: QuorumOperations;
  /** The `--max-memory` bound client writes are checked against. */
  readonly memory: MemoryLimit;
  /** Largest key accepted, in bytes. */
  readonly maxKeyBytes: number;
  /** Wall clock, milliseconds since the epoch. */
  now(): number;
  /** The INFO text, for the sections asked (all when empty). */
  info(sections: string[]): string;
  /** Values for CONFIG GET. */
  config(): Record<string, string>;
  /** The rings this node routes with as JSON (target only while it differs), once it has them. */
  ring(): { readonly epoch: number; readonly json: string; readonly target?: string } | undefined;
  /** SCAN's cursors over this node's data. */
  readonly scans: ScanCursors;
  /** Who each connection is; what AUTH and the member challenge change. */
  readonly access: AccessControl;
  /** Starts a graceful leave (hand-off, unregister, stop); false if one already started. */
  decommission(): boolean;
}
