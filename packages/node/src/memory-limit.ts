import { ErrorCode, ReplyError } from '@kv/protocol';
import { formatByteSize } from './byte-size';

/** `-OOM` reply: this node holds more than `--max-memory`; nothing was stored. */
export class OutOfMemoryError extends ReplyError {
  constructor(used: number, max: number) {
    super(
      `${ErrorCode.OOM} command not allowed when used memory > 'maxmemory' (used ${used} bytes, maxmemory ${formatByteSize(max)}): delete keys or raise --max-memory`,
    );
    this.name = 'OutOfMemoryError';
  }
}

/**
 * The `--max-memory` bound of a node. Used memory is the node's own accounting of what it
 * holds (the store's keys, packed records and a fixed overhead per record, plus hints), so
 * the check is a few additions, the same on every machine, and tests are deterministic;
 * the process itself needs the runtime's own memory on top (see docs/hardening.md).
 */
export class MemoryLimit {
  /**
   * @param maxBytes - the bound; 0 for none
   * @param used - bytes held now
   * @param onRefused - told of each write refused
   */
  constructor(
    readonly maxBytes: number,
    private readonly used: () => number,
    private readonly onRefused: () => void = () => undefined,
  ) {}

  /** Bytes held now, by the node's accounting. */
  get usedBytes(): number {
    return this.used();
  }

  /**
   * Before storing something that takes memory.
   * @throws OutOfMemoryError (counted) while a bound is set and the bytes held are past it
   */
  check(): void {
    if (this.maxBytes === 0) return;
    const used = this.used();
    if (used <= this.maxBytes) return;
    this.onRefused();
    throw new OutOfMemoryError(used, this.maxBytes);
  }
}
