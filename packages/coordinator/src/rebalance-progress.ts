/** Where one node's data movement stands, as the dashboard draws it. */
export interface Progress {
  /** True while data moves; false once it is done (shown as complete for a while). */
  readonly active: boolean;
  /** 0..1: the share of the work seen at its peak that is done. */
  readonly fraction: number;
}

/** What a node still has to move, from its INFO and the coordinator's view. */
export interface PendingWork {
  /** The member is joining or leaving in the current epoch. */
  readonly moving: boolean;
  /** Ranges not synced yet, peers not synced this round and records not handed off. */
  readonly pending: number;
}

interface Entry {
  peak: number;
  doneAt: number | undefined;
}

/**
 * Turns the pending work nodes report into progress bars: a bar starts when a node starts
 * joining or leaving or reports pending work, measures progress against the most work seen
 * since, and stays shown as complete for `keepMs` after the work is done, so a short
 * rebalance is not missed between two refreshes. Pure: the clock is injected.
 */
export class RebalanceProgress {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly now: () => number,
    private readonly keepMs = 15_000,
  ) {}

  /** The progress of `id` given its work now; undefined when there is none to show. */
  update(id: string, work: PendingWork): Progress | undefined {
    const entry = this.entries.get(id);
    if (work.moving || work.pending > 0) {
      const current = entry ?? { peak: 0, doneAt: undefined };
      if (current.doneAt !== undefined) {
        current.peak = 0;
        current.doneAt = undefined;
      }
      current.peak = Math.max(current.peak, work.pending);
      this.entries.set(id, current);
      const done = current.peak === 0 ? 0 : 1 - work.pending / current.peak;
      // A member still joining or leaving has not finished, whatever its counters say.
      return { active: true, fraction: work.moving ? Math.min(done, 0.99) : done };
    }
    if (entry === undefined) return undefined;
    entry.doneAt ??= this.now();
    if (this.now() - entry.doneAt > this.keepMs) {
      this.entries.delete(id);
      return undefined;
    }
    return { active: false, fraction: 1 };
  }

  /** Forgets members no longer listed. */
  retain(ids: ReadonlySet<string>): void {
    for (const id of this.entries.keys()) if (!ids.has(id)) this.entries.delete(id);
  }
}
