/**
 * What a node stores for a key: its value (or a tombstone), the version that wrote it and
 * an optional absolute expiry. Versions are totally ordered (timestamp, then origin node
 * id), so merging two copies of a key keeps the newer one whatever order they arrive in.
 */
export interface StoredRecord {
  /** The value, or null for a tombstone (the key was deleted). */
  readonly value: Buffer | null;
  /** Hybrid logical clock timestamp of the write. */
  readonly ts: number;
  /** Id of the node that versioned the write; breaks ties between equal timestamps. */
  readonly origin: string;
  /** Absolute expiry in milliseconds since the epoch; 0 for none. */
  readonly expiresAt: number;
}

/**
 * Latest expiry a record can carry (milliseconds since the epoch; about year 10889): the
 * engines store it in 48 bits.
 */
export const MAX_EXPIRES_AT = 2 ** 48 - 1;

/** A record without its value: what merging and liveness checks need. */
export interface RecordVersion {
  readonly ts: number;
  readonly origin: string;
  readonly expiresAt: number;
  /** A tombstone. */
  readonly deleted: boolean;
}

/** Orders two versions: negative if a is older than b, 0 if the same version, positive if newer. */
export function compareVersions(
  a: Pick<StoredRecord, 'ts' | 'origin'>,
  b: Pick<StoredRecord, 'ts' | 'origin'>,
): number {
  if (a.ts !== b.ts) return a.ts < b.ts ? -1 : 1;
  if (a.origin === b.origin) return 0;
  return Buffer.compare(Buffer.from(a.origin), Buffer.from(b.origin));
}

/** True if `incoming` should replace `current` under last-writer-wins. */
export function supersedes(incoming: StoredRecord, current: StoredRecord | undefined): boolean {
  return current === undefined || compareVersions(incoming, current) > 0;
}

/** True if the record holds a value that has not expired at `now`. */
export function isLive(
  record: StoredRecord | undefined,
  now: number,
): record is StoredRecord & { value: Buffer } {
  return (
    record !== undefined &&
    record.value !== null &&
    (record.expiresAt === 0 || record.expiresAt > now)
  );
}

/** Of several copies of a key (undefined for missing ones), the newest. */
export function newest(records: readonly (StoredRecord | undefined)[]): StoredRecord | undefined {
  let best: StoredRecord | undefined;
  for (const r of records) if (r && supersedes(r, best)) best = r;
  return best;
}

/** Bytes a record of `key` takes on the wire, roughly: key, value, origin and its numbers. */
export function sizeOf(key: Buffer, record: StoredRecord): number {
  return key.length + (record.value?.length ?? 0) + record.origin.length + 24;
}
