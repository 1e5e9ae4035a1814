/** Emitted when a node failed and the request moves on to the next one. */
export interface FallbackEvent {
  readonly command: string;
  readonly key: string;
  /** The node that failed. */
  readonly from: string;
  /** The node tried next. */
  readonly to: string;
  readonly error: Error;
}

/** Emitted when the client adopts a different ring. */
export interface RingChangeEvent {
  readonly epoch: number;
  readonly previousEpoch: number | undefined;
  readonly members: number;
}

/** The events of a `KvClient`, by name. */
export interface ClientEvents {
  fallback: [FallbackEvent];
  ring: [RingChangeEvent];
}
