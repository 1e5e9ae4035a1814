import type { Reply } from '@kv/protocol';
import type { CommandContext } from '../command-context';
import { unavailable } from '../errors';
import { createNodeRouter } from '../node-commands';
import type { StoredRecord } from '../record';
import { fakeConnection } from './fake-connection';

/** The wall clock of {@link FakeNode}, frozen unless a test moves it. */
export const NOW = 1_700_000_000_000;

/** One quorum operation a {@link FakeNode}'s commands asked for. */
export type QuorumCall =
  | { op: 'read'; key: string; r: number | undefined }
  | { op: 'readForWrite'; key: string; w: number | undefined }
  | { op: 'write'; key: string; value: string | null; expiresAt: number; w: number | undefined };

const connection = fakeConnection();

/**
 * A node's client commands over an in-memory key space standing in for the replicas: each
 * quorum read and write is recorded, and keys in `failing` fail as a quorum that could not
 * be reached does. The clock is frozen at {@link NOW} until `now` is changed.
 */
export class FakeNode {
  readonly records = new Map<string, StoredRecord>();
  readonly calls: QuorumCall[] = [];
  /** Keys whose reads and writes fail with `-UNAVAILABLE`. */
  readonly failing = new Set<string>();
  now = NOW;
  /** Set to make the memory check refuse writes. */
  outOfMemory = false;
  private ts = 0;
  private readonly router = createNodeRouter();

  /** Stores `value` under `key` as a write would, expiring at `expiresAt` (0: never). */
  set(key: string, value: string | null, expiresAt = 0): void {
    this.records.set(key, {
      value: value === null ? null : Buffer.from(value),
      ts: ++this.ts,
      origin: 'test',
      expiresAt,
    });
  }

  /** The command's reply, or the message of the error it answered. */
  async send(...args: string[]): Promise<Reply> {
    try {
      const reply = await this.router.dispatch(
        args.map((a) => Buffer.from(a)),
        this.context,
        connection,
      );
      return reply instanceof Error ? reply.message : reply;
    } catch (err) {
      return (err as Error).message;
    }
  }

  /** The value `key` holds now as text, or null. */
  value(key: string): string | null | undefined {
    return this.records.get(key)?.value?.toString();
  }

  private fetch(key: Buffer): StoredRecord | undefined {
    if (this.failing.has(key.toString())) throw unavailable('1 of 2 replicas answered');
    return this.records.get(key.toString());
  }

  private readonly context = {
    maxKeyBytes: 16,
    now: () => this.now,
    memory: {
      check: () => {
        if (this.outOfMemory) throw new Error('OOM command not allowed');
      },
    },
    quorum: {
      read: (key: Buffer, r?: number) => {
        this.calls.push({ op: 'read', key: key.toString(), r });
        return Promise.resolve().then(() => this.fetch(key));
      },
      readForWrite: (key: Buffer, w?: number) => {
        this.calls.push({ op: 'readForWrite', key: key.toString(), w });
        return Promise.resolve().then(() => this.fetch(key));
      },
      write: (key: Buffer, value: Buffer | null, expiresAt: number, w?: number) => {
        const text = key.toString();
        this.calls.push({ op: 'write', key: text, value: value?.toString() ?? null, expiresAt, w });
        return Promise.resolve().then(() => {
          if (this.failing.has(text)) throw unavailable('1 of 2 replicas acknowledged');
          const existed = (this.records.get(text)?.value ?? null) !== null;
          this.set(text, value?.toString() ?? null, expiresAt);
          return { existed };
        });
      },
    },
  } as unknown as CommandContext;
}
