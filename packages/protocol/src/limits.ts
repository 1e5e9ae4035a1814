/** Bounds the parser enforces so that no input can grow memory without limit. */
export interface ProtocolLimits {
  /**
   * Longest bulk string accepted. In a request a longer argument is skipped without being
   * buffered and the request fails with {@link TooLargeError}; in a reply it is a
   * {@link LimitExceededError}.
   * @default 8 MiB (8388608)
   */
  maxBulkLength: number;
  /**
   * Most elements in one array.
   * @default 1048576
   */
  maxArrayLength: number;
  /**
   * Most arguments in one request (the command name included), inline or not. A request
   * with more is read through and dropped argument by argument, nothing of it kept, and
   * fails with {@link TooLargeError}: the connection stays usable, and what a request
   * holds in memory is bounded whatever count its header announces. Servers whose
   * commands take few arguments set it low.
   * @default 1048576
   */
  maxArguments: number;
  /**
   * Deepest nesting of arrays (a request is depth 1).
   * @default 32
   */
  maxDepth: number;
  /**
   * Longest inline command line, and longest simple-string, error or integer line.
   * @default 64 KiB (65536)
   */
  maxInlineLength: number;
  /**
   * Most bytes held for one message that has not been received completely (elements
   * already parsed plus unparsed input).
   * @default 32 MiB (33554432)
   */
  maxBufferedBytes: number;
}

/** The defaults of every {@link ProtocolLimits} field. */
export const DEFAULT_LIMITS: Readonly<ProtocolLimits> = Object.freeze({
  maxBulkLength: 8 * 1024 * 1024,
  maxArrayLength: 1024 * 1024,
  maxArguments: 1024 * 1024,
  maxDepth: 32,
  maxInlineLength: 64 * 1024,
  maxBufferedBytes: 32 * 1024 * 1024,
});

/** Fills unset fields with {@link DEFAULT_LIMITS} and rejects values that are not positive integers. */
export function resolveLimits(limits: Partial<ProtocolLimits> = {}): ProtocolLimits {
  const resolved = { ...DEFAULT_LIMITS, ...limits };
  for (const [name, value] of Object.entries(resolved)) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new RangeError(
        `protocol limit ${name} must be a positive integer, got ${String(value)}`,
      );
    }
  }
  return resolved;
}
