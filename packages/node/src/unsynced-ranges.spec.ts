import { TOKEN_SPACE, token, RingEpoch } from '@kv/ring';
import { UnsyncedRanges, type SyncProgressJournal, type UnsyncedRange } from './unsynced-ranges';
import { ringOf } from './test-support/rings';

const [a, b, c, d, e] = ['a:1', 'b:1', 'c:1', 'd:1', 'e:1'] as const;
const keys = Array.from({ length: 500 }, (_, i) => `key:${i}`);

/** A tracker for `a` that synced `first`, then saw each of `then`. */
function trackerAfter(first: RingEpoch, ...then: RingEpoch[]): UnsyncedRanges {
  const unsynced = new UnsyncedRanges(a);
  unsynced.update(first);
  unsynced.synced(first);
  for (const p of then) unsynced.update(p);
  return unsynced;
}

describe('UnsyncedRanges', () => {
  const four = new RingEpoch(1, ringOf([a, b, c, d]));
  const three = new RingEpoch(2, ringOf([a, b, c]));

  it('holds everything a node owns until its first round, with no previous owner known', () => {
    const unsynced = new UnsyncedRanges(a);
    unsynced.update(four);
    for (const k of keys) {
      const owned = four.owners(k).includes(a);
      expect(unsynced.previousOwners(token(k))).toEqual(owned ? [] : undefined);
    }
    expect(unsynced.synced(four)).toBe(false);
    expect(unsynced.any).toBe(false);
    expect(unsynced.previousOwners(0)).toBeUndefined();
  });

  it('holds exactly the ranges gained when a member is removed, with their previous owners', () => {
    const unsynced = trackerAfter(four, three);
    let gained = 0;
    for (const k of keys) {
      const previous = unsynced.previousOwners(token(k));
      if (four.owners(k).includes(a)) expect(previous).toBeUndefined();
      else {
        gained++;
        expect(previous).toEqual(four.owners(k));
      }
    }
    expect(gained).toBeGreaterThan(50);
    const ranges = unsynced.list();
    expect(ranges.length).toBe(unsynced.size);
    for (let i = 1; i < ranges.length; i++)
      expect(ranges[i]?.start).toBeGreaterThanOrEqual(ranges[i - 1]?.end as number);
    expect(ranges.every((r) => r.start < r.end && r.end <= TOKEN_SPACE)).toBe(true);
  });

  it('clears them when a round completes under the placement, and not under another', () => {
    const unsynced = trackerAfter(four, three);
    expect(unsynced.synced(four)).toBe(true);
    expect(unsynced.synced(three)).toBe(false);
    expect(unsynced.size).toBe(0);
  });

  it('keeps what is unsynced across further ring changes, and what it gains then', () => {
    const five = new RingEpoch(3, ringOf([a, b, c, e]));
    const unsynced = trackerAfter(four, three, five);
    for (const k of keys) {
      const t = token(k);
      if (!five.owners(k).includes(a)) expect(unsynced.previousOwners(t)).toBeUndefined();
      else if (!four.owners(k).includes(a))
        expect(unsynced.previousOwners(t)).toEqual(four.owners(k));
      else if (!three.owners(k).includes(a))
        expect(unsynced.previousOwners(t)).toEqual(three.owners(k));
      else expect(unsynced.previousOwners(t)).toBeUndefined();
    }
  });

  it('counts a range a joining node will own as gained too', () => {
    const joining = new RingEpoch(2, four.read, ringOf([a, b, c, d, e]));
    const unsynced = new UnsyncedRanges(e);
    unsynced.update(four);
    unsynced.update(joining);
    expect(unsynced.any).toBe(true);
    expect(unsynced.synced(joining)).toBe(false);
  });

  it('keeps the ranges whose previous owners all left the ring, until one returns', () => {
    // The coordinator lost contact with b, c and d; a registered first and is alone.
    const alone = new RingEpoch(7, ringOf([a]));
    const unsynced = trackerAfter(four, alone);
    expect(unsynced.synced(alone)).toBe(true);
    const gained = keys.filter((k) => !four.owners(k).includes(a));
    for (const k of gained) expect(unsynced.previousOwners(token(k))).toEqual(four.owners(k));
    // The others register again, joining: a round can now pull from them.
    const back = new RingEpoch(8, alone.read, four.read);
    unsynced.update(back);
    expect(unsynced.synced(back)).toBe(false);
  });

  describe('with a journal', () => {
    /** A journal in memory, counting saves, as the LMDB engine's keeps them on disk. */
    function memoryJournal(): SyncProgressJournal & { saved: UnsyncedRange[]; saves: number } {
      const journal = {
        saved: [] as UnsyncedRange[],
        saves: 0,
        load: () => journal.saved,
        save: (ranges: readonly UnsyncedRange[]) => {
          journal.saves++;
          journal.saved = JSON.parse(JSON.stringify(ranges)) as UnsyncedRange[];
        },
      };
      return journal;
    }

    it('saves every change, and a restart keeps the previous owners of what was unsynced', () => {
      const journal = memoryJournal();
      const before = new UnsyncedRanges(a, journal);
      const alone = new RingEpoch(7, ringOf([a]));
      before.update(four);
      before.synced(four);
      expect(journal.saved).toEqual([]);
      before.update(alone);
      before.synced(alone);
      const gained = keys.filter((k) => !four.owners(k).includes(a));
      expect(journal.saved).toEqual(before.list());
      expect(journal.saved.length).toBeGreaterThan(0);

      // Restarted: the first placement is the same lonely ring.
      const after = new UnsyncedRanges(a, journal);
      after.update(alone);
      for (const k of gained) expect(after.previousOwners(token(k))).toEqual(four.owners(k));
      // Its first round syncs nothing it had no previous owner of to pull from.
      expect(after.synced(alone)).toBe(true);
      for (const k of gained) expect(after.previousOwners(token(k))).toEqual(four.owners(k));
      // Without the journal, the restart would have forgotten them at the first round.
      const forgetful = new UnsyncedRanges(a);
      forgetful.update(alone);
      expect(forgetful.synced(alone)).toBe(false);
    });

    it('does not save what did not change', () => {
      const journal = memoryJournal();
      const unsynced = new UnsyncedRanges(a, journal);
      unsynced.update(four);
      const saves = journal.saves;
      unsynced.update(new RingEpoch(2, four.read));
      expect(journal.saves).toBe(saves);
    });
  });
});
