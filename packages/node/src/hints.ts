import type { Logger } from 'winston';
import { NodeMetrics } from './metrics';
import { NODE_DEFAULTS } from './node-options';
import type { PeerClient } from './peer-client';
import type { StoredRecord } from './record';

/** Options of {@link HintStore}. */
export interface HintStoreOptions {
  /**
   * Most hints held; a hint past this is dropped (and counted).
   * @default 100000
   */
  readonly maxHints?: number;
  /**
   * Most bytes of keys and values held in hints.
   * @default 64 MiB
   */
  readonly maxBytes?: number;
  /**
   * Where hints kept, delivered and dropped are counted.
   * @default metrics of its own
   */
  readonly metrics?: NodeMetrics;
  /**
   * Where hints are kept across restarts; those it holds are loaded at once.
   * @default none: hints live in memory only
   */
  readonly journal?: HintJournal;
  /**
   * Told when hints for a replica start being kept (or are restored from the journal), when
   * none are left, and when a replica's are dropped as it left. @default none
   */
  readonly logger?: Logger;
}

/** A hint as a {@link HintJournal} keeps it. */
export interface JournaledHint {
  readonly replica: string;
  readonly key: Buffer;
  readonly record: StoredRecord;
}

/** Durable storage for hints (the LMDB engine provides one); writes may complete later. */
export interface HintJournal {
  /** Every hint kept. */
  load(): JournaledHint[];
  /** Keeps (or replaces) the hint for `replica` and `key`. */
  save(replica: string, key: Buffer, record: StoredRecord): void;
  /** Forgets the hint for `replica` and `key`. */
  remove(replica: string, key: Buffer): void;
}

interface Hint {
  readonly key: Buffer;
  readonly record: StoredRecord;
  readonly bytes: number;
}

/** Most hints sent to one replica in one delivery pass. */
const DELIVERY_BATCH = 256;

/** Most batches sent to a replica that asked for its hints, before answering it. */
const BATCHES_ON_REQUEST = 4;

/**
 * Writes a replica missed, kept by the node that coordinated them until that replica can
 * be reached again (hinted handoff). Bounded in count and bytes; one hint per replica and
 * key, the newest version winning, so a hot key costs one slot. Held in memory, and with a
 * journal (a node with a data directory) also on disk, so a restart keeps them; without
 * one a node that restarts loses its hints, and anti-entropy repairs what they would have.
 */
export class HintStore {
  private readonly byReplica = new Map<string, Map<string, Hint>>();
  private readonly maxHints: number;
  private readonly maxBytes: number;
  private count = 0;
  private bytes = 0;
  private delivering = false;
  private readonly metrics: NodeMetrics;
  private readonly journal: HintJournal | undefined;
  private readonly logger: Logger | undefined;

  constructor(options: HintStoreOptions = {}) {
    this.maxHints = options.maxHints ?? NODE_DEFAULTS.maxHints;
    this.maxBytes = options.maxBytes ?? NODE_DEFAULTS.maxHintBytes;
    this.metrics = options.metrics ?? new NodeMetrics();
    const saved = options.journal?.load() ?? [];
    // Loaded before the journal is attached: they are on disk already.
    let dropped = 0;
    for (const hint of saved) {
      // Past the bounds (lowered since): dropped here and on disk.
      if (this.add(hint.replica, hint.key, hint.record)) continue;
      options.journal?.remove(hint.replica, hint.key);
      dropped++;
    }
    this.journal = options.journal;
    this.logger = options.logger;
    for (const [replica, hints] of this.byReplica)
      this.logger?.info(`Restored ${hints.size} hint(s) for ${replica} from the data directory`);
    if (dropped > 0)
      this.logger?.warn(
        `Dropped ${dropped} hint(s) kept in the data directory: past --max-hints or --max-hint-bytes`,
      );
  }

  /** Hints held. */
  get pending(): number {
    return this.count;
  }

  /** Bytes charged for the hints held (keys, values and a fixed overhead each). */
  get heldBytes(): number {
    return this.bytes;
  }

  /** Publishes what is held to the gauges. */
  private held(count: number, bytes: number): void {
    this.count = count;
    this.bytes = bytes;
    this.metrics.gauges.hintsPending.set(count);
    this.metrics.gauges.hintsPendingBytes.set(bytes);
  }

  /**
   * Keeps a write for `replica`, which missed it because of `reason`; returns false when it
   * had to be dropped.
   */
  add(replica: string, key: Buffer, record: StoredRecord, reason?: string): boolean {
    let hints = this.byReplica.get(replica);
    const k = key.toString('latin1');
    const old = hints?.get(k);
    if (old && old.record.ts >= record.ts) return true;
    const bytes = key.length + (record.value?.length ?? 0) + 64;
    const count = this.count + (old ? 0 : 1);
    if (count > this.maxHints || this.bytes - (old?.bytes ?? 0) + bytes > this.maxBytes) {
      this.metrics.counters.hintsDropped.inc();
      return false;
    }
    if (!hints) {
      this.byReplica.set(replica, (hints = new Map()));
      this.logger?.info(
        `Keeping writes for ${replica} as hints until they can be delivered${reason === undefined ? '' : `: ${reason}`}`,
      );
    }
    // Copies: the key and value may be views into a network buffer.
    hints.set(k, {
      key: Buffer.from(key),
      record: { ...record, value: record.value === null ? null : Buffer.from(record.value) },
      bytes,
    });
    this.held(count, this.bytes + bytes - (old?.bytes ?? 0));
    this.journal?.save(replica, key, record);
    return true;
  }

  /** Replicas with hints waiting. */
  replicas(): string[] {
    return [...this.byReplica.keys()];
  }

  /** Forgets every hint for `replica` (it left the ring), counting them as dropped. */
  discard(replica: string): void {
    const hints = this.byReplica.get(replica);
    if (!hints) return;
    this.metrics.counters.hintsDropped.inc(hints.size);
    let bytes = this.bytes;
    for (const hint of hints.values()) {
      bytes -= hint.bytes;
      this.journal?.remove(replica, hint.key);
    }
    this.held(this.count - hints.size, bytes);
    this.byReplica.delete(replica);
    this.logger?.info(`Dropped ${hints.size} hint(s) for ${replica}: it is no longer a member`);
  }

  /**
   * One delivery pass: for each replica that is a member and reachable, sends up to a
   * batch of its hints; stops at a replica's first failure.
   */
  async deliver(peers: PeerClient, isMember: (id: string) => boolean): Promise<void> {
    if (this.delivering) return;
    this.delivering = true;
    try {
      for (const [replica, hints] of [...this.byReplica]) {
        if (!isMember(replica)) {
          this.discard(replica);
          continue;
        }
        if (!peers.isAvailable(replica)) continue;
        await this.sendBatch(peers, replica, hints).catch(() => {
          // Unreachable again: the rest waits for the next pass.
        });
      }
    } finally {
      this.delivering = false;
    }
  }

  /**
   * Delivers the hints kept for `replica` now, a few batches at most (the replica asked for
   * them and waits), whether or not a pass is running: a hint sent twice is applied once.
   * @returns how many are left for it
   * @throws the error of the first delivery that failed
   */
  async deliverTo(peers: PeerClient, replica: string): Promise<number> {
    for (let i = 0; i < BATCHES_ON_REQUEST; i++) {
      const hints = this.byReplica.get(replica);
      if (!hints) return 0;
      await this.sendBatch(peers, replica, hints);
    }
    return this.byReplica.get(replica)?.size ?? 0;
  }

  /** Sends up to a batch of `hints` to `replica`, forgetting each one it acknowledged. */
  private async sendBatch(
    peers: PeerClient,
    replica: string,
    hints: Map<string, Hint>,
  ): Promise<void> {
    const batch = [...hints.values()].slice(0, DELIVERY_BATCH);
    try {
      await Promise.all(
        batch.map(async (hint) => {
          await peers.replicate(replica, hint.key, hint.record);
          // A newer hint for the key may have replaced this one meanwhile.
          if (hints.get(hint.key.toString('latin1')) === hint) {
            this.remove(replica, hints, hint);
            this.metrics.counters.hintsDelivered.inc();
          }
        }),
      );
    } finally {
      if (hints.size === 0 && this.byReplica.get(replica) === hints) {
        this.byReplica.delete(replica);
        this.logger?.info(`Delivered every write kept for ${replica}`);
      }
    }
  }

  private remove(replica: string, hints: Map<string, Hint>, hint: Hint): void {
    hints.delete(hint.key.toString('latin1'));
    this.journal?.remove(replica, hint.key);
    this.held(this.count - 1, this.bytes - hint.bytes);
  }
}
