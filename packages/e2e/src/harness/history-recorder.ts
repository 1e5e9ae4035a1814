import type { KeyHistory, ReadEvent, WriteEvent } from './history-checker';

/** Collects the operations of a workload, key by key, for the history checker. */
export class HistoryRecorder {
  private readonly keys = new Map<string, { writes: WriteEvent[]; reads: ReadEvent[] }>();

  private entry(key: string): { writes: WriteEvent[]; reads: ReadEvent[] } {
    let found = this.keys.get(key);
    if (!found) {
      found = { writes: [], reads: [] };
      this.keys.set(key, found);
    }
    return found;
  }

  write(key: string, event: WriteEvent): void {
    this.entry(key).writes.push(event);
  }

  read(key: string, event: ReadEvent): void {
    this.entry(key).reads.push(event);
  }

  /** Every key touched, with its history. */
  histories(): KeyHistory[] {
    return [...this.keys].map(([key, h]) => ({ key, writes: h.writes, reads: h.reads }));
  }

  /** How many writes ended each way, for messages. */
  outcomes(): Record<WriteEvent['outcome'], number> {
    const counts = { ok: 0, failed: 0, unknown: 0 };
    for (const { writes } of this.keys.values()) for (const w of writes) counts[w.outcome]++;
    return counts;
  }
}
