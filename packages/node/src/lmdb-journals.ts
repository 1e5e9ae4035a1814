import { createHash } from 'node:crypto';
import type { Database } from 'lmdb';
import type { HintJournal } from './hints';
import { commitFailureCause } from './lmdb-commit-failures';
import { decode, encode } from './lmdb-records';
import type { SyncProgressJournal, UnsyncedRange } from './unsynced-ranges';

/*
 * What an LMDB engine keeps of the node's own state beside its records: the hints it holds
 * for unreachable replicas, and the token ranges it has not synced yet. Their writes join
 * the next transaction and nobody waits for them; `mayWrite` says whether the engine still
 * takes them (not once it is closing).
 */

/** The hints in `hints`: one record per replica and key, under the key's SHA-256. */
export function hintJournalIn(
  hints: Database<Buffer, Buffer>,
  mayWrite: () => boolean,
): HintJournal {
  const hintKey = (replica: string, key: Buffer): Buffer => {
    const id = Buffer.from(replica);
    const length = Buffer.allocUnsafe(2);
    length.writeUInt16BE(id.length);
    return Buffer.concat([length, id, createHash('sha256').update(key).digest()]);
  };
  const quietly = (write: () => Promise<boolean>): void => {
    if (mayWrite()) write().catch(commitFailureCause);
  };
  return {
    load: () =>
      [...hints.getRange({})].map(({ key, value }) => {
        const keyLength = value.readUInt16LE(0);
        return {
          replica: key.toString('utf8', 2, 2 + key.readUInt16BE(0)),
          key: value.subarray(2, 2 + keyLength),
          record: decode(value.subarray(2 + keyLength)).record,
        };
      }),
    save: (replica, key, record) => {
      const length = Buffer.allocUnsafe(2);
      length.writeUInt16LE(key.length);
      const value = Buffer.concat([length, key, encode(Buffer.alloc(0), record)]);
      quietly(() => hints.put(hintKey(replica, key), value));
    },
    remove: (replica, key) => quietly(() => hints.remove(hintKey(replica, key))),
  };
}

/** The unsynced ranges, as JSON under one key of `meta`. */
export function syncProgressJournalIn(
  meta: Database<Buffer, Buffer>,
  mayWrite: () => boolean,
): SyncProgressJournal {
  const key = Buffer.from('unsynced-ranges');
  return {
    load: () => {
      const saved = meta.getBinary(key);
      return saved === undefined ? [] : (JSON.parse(saved.toString('utf8')) as UnsyncedRange[]);
    },
    save: (ranges) => {
      if (mayWrite()) meta.put(key, Buffer.from(JSON.stringify(ranges))).catch(commitFailureCause);
    },
  };
}
