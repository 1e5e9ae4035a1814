import { RingEpoch } from '@kv/ring';
import type { HintStore } from './hints';
import { createNodeLogger } from './logger';
import { NodeMetrics } from './metrics';
import type { PeerClient } from './peer-client';
import { Rebalancer } from './rebalancer';
import type { CoOwnedDigests } from './sync-source';
import { Digest } from './digest';
import type { Syncer } from './syncer';
import { UnsyncedRanges } from './unsynced-ranges';
import { ringOf } from './test-support/rings';

const HEARTBEAT_MS = 100;
const IN_FLIGHT_MS = 1000;
const [a, b, c, self] = ['a:1', 'b:1', 'c:1', 'd:1'] as const;

/** `self` joining a cluster of a, b and c at `epoch`. */
const joining = (epoch: number): RingEpoch =>
  new RingEpoch(epoch, ringOf([a, b, c]), ringOf([a, b, c, self]));

/**
 * A rebalancer for `self` over fakes: `atEpoch(peer, epoch)` says whether a peer answers
 * at `epoch`, this node's, yet (a pull from one that does not fails, as SYNC_DIGEST refuses
 * it). Every pull and the moment the coordinator is told the node is ready are recorded.
 */
function rig(
  atEpoch: (peer: string, epoch: number) => boolean | 'hangs',
  inFlightMs = IN_FLIGHT_MS,
) {
  let placement: RingEpoch | undefined;
  const pulls: { peer: string; epoch: number; at: number; ok: boolean }[] = [];
  const readyAt: number[] = [];
  const unsynced = new UnsyncedRanges(self);
  /** Peers whose connections were reset, and the pulls waiting on each until then. */
  const forgotten: string[] = [];
  const hanging = new Map<string, (err: Error) => void>();
  const syncer = {
    pull: (peer: string, at: RingEpoch) => {
      const answer = atEpoch(peer, at.epoch);
      pulls.push({ peer, epoch: at.epoch, at: Date.now(), ok: answer === true });
      // A request sent into a partition: it waits until its connection is reset.
      if (answer === 'hangs') return new Promise<number>((_, reject) => hanging.set(peer, reject));
      return answer ? Promise.resolve(0) : Promise.reject(new Error(`${peer} is at another epoch`));
    },
    collectHints: () => Promise.resolve(),
    handOff: () => Promise.resolve(0),
    forget: (peer: string) => {
      forgotten.push(peer);
      hanging.get(peer)?.(new Error(`${peer} is unreachable (connection reset)`));
    },
  };
  const digests = {
    pass: () => Promise.resolve({ digests: new Map<string, Digest>(), outsideTarget: 0 }),
  };
  const rebalancer = new Rebalancer({
    selfId: self,
    syncer: syncer as unknown as Syncer,
    digests: digests as unknown as CoOwnedDigests,
    hints: { pending: 0 } as HintStore,
    replicationPeers: {} as PeerClient,
    placement: () => placement,
    unsynced,
    ready: () => {
      readyAt.push(Date.now());
      return Promise.resolve();
    },
    heartbeatIntervalMs: HEARTBEAT_MS,
    inFlightMs,
    antiEntropyIntervalMs: 0,
    logger: createNodeLogger({ label: 'test', silent: true }),
    metrics: new NodeMetrics(),
    now: () => Date.now(),
  });
  const place = (p: RingEpoch): void => {
    placement = p;
    rebalancer.onPlacement(p);
  };
  return { rebalancer, pulls, readyAt, place, unsynced, forgotten };
}

describe('Rebalancer: when a joining node is ready', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  it('waits a replica timeout after a round found every peer at its epoch, then syncs once more', async () => {
    const { rebalancer, pulls, readyAt, place } = rig(() => true);
    const start = Date.now();
    place(joining(5));
    await jest.advanceTimersByTimeAsync(5000);
    rebalancer.close();
    expect(readyAt).toHaveLength(1);
    const firstRoundEnd = (pulls.find((p) => p.peer === c) as { at: number }).at;
    // A replica timeout after every member was found at the epoch, not two heartbeats.
    expect(readyAt[0]).toBeGreaterThanOrEqual(firstRoundEnd + IN_FLIGHT_MS);
    expect(readyAt[0]).toBeGreaterThanOrEqual(start + 2 * HEARTBEAT_MS);
    // And every peer was pulled again after that.
    for (const peer of [a, b, c]) {
      const last = pulls.filter((p) => p.peer === peer).at(-1) as { at: number };
      expect(last.at).toBeGreaterThanOrEqual(firstRoundEnd + IN_FLIGHT_MS);
      expect(last.at).toBeLessThanOrEqual(readyAt[0] as number);
    }
  });

  it('is not decided by a round whose early pulls preceded a peer that learnt the epoch late', async () => {
    // c reaches the coordinator 3 s late (as after a cut of the coordinator): until then it
    // places writes by the old ring, to a and b but not to this node.
    let cLearnt = Infinity;
    const { rebalancer, pulls, readyAt, place } = rig(
      (peer) => peer !== c || Date.now() >= cLearnt,
    );
    place(joining(5));
    cLearnt = Date.now() + 3000;
    await jest.advanceTimersByTimeAsync(8000);
    rebalancer.close();
    expect(readyAt).toHaveLength(1);
    const cFirst = (pulls.find((p) => p.peer === c && p.ok) as { at: number }).at;
    expect(cFirst).toBeGreaterThanOrEqual(cLearnt);
    // The pulls of a and b that made the node ready came a replica timeout after c had the
    // epoch: any write c coordinated by the old ring had reached them by then.
    const ready = readyAt[0] as number;
    for (const peer of [a, b]) {
      const last = pulls.filter((p) => p.peer === peer && p.at <= ready).at(-1) as { at: number };
      expect(last.at).toBeGreaterThanOrEqual(cFirst + IN_FLIGHT_MS);
    }
  });

  it('waits at most ten heartbeats for writes in flight, however long the replica timeout', async () => {
    const { rebalancer, pulls, readyAt, place } = rig(() => true, 60_000);
    place(joining(5));
    await jest.advanceTimersByTimeAsync(5000);
    rebalancer.close();
    expect(readyAt).toHaveLength(1);
    const firstRoundEnd = (pulls.find((p) => p.peer === c) as { at: number }).at;
    expect(readyAt[0]).toBeGreaterThanOrEqual(firstRoundEnd + 10 * HEARTBEAT_MS);
    expect(readyAt[0]).toBeLessThan(firstRoundEnd + 10 * HEARTBEAT_MS + 500);
  });

  it('does not count a round at the old epoch that ends after a new one arrived', async () => {
    // The new epoch arrives while the last peer of a round is pulled; b learns it 1.5 s late.
    let bLearnt = Infinity;
    let moved = false;
    const { rebalancer, pulls, readyAt, place } = rig((peer, epoch) => {
      if (epoch === 5 && peer === c && !moved) {
        moved = true;
        bLearnt = Date.now() + 1500;
        place(joining(6));
      }
      return epoch !== 6 || peer !== b || Date.now() >= bLearnt;
    });
    place(joining(5));
    await jest.advanceTimersByTimeAsync(8000);
    rebalancer.close();
    expect(readyAt).toHaveLength(1);
    const bFirst = (pulls.find((p) => p.peer === b && p.epoch === 6 && p.ok) as { at: number }).at;
    expect(readyAt[0]).toBeGreaterThanOrEqual(bFirst + IN_FLIGHT_MS);
  });

  it('starts over at a new epoch: a round at the old one does not count', async () => {
    const { rebalancer, pulls, readyAt, place } = rig(() => true);
    place(joining(5));
    await jest.advanceTimersByTimeAsync(600);
    expect(readyAt).toHaveLength(0);
    const moved = Date.now();
    place(joining(6));
    await jest.advanceTimersByTimeAsync(5000);
    rebalancer.close();
    expect(readyAt).toHaveLength(1);
    const firstAtNew = (pulls.find((p) => p.peer === c && p.at >= moved) as { at: number }).at;
    expect(readyAt[0]).toBeGreaterThanOrEqual(firstAtNew + IN_FLIGHT_MS);
  });
});

describe('Rebalancer: when a serving node has synced the ranges it gained', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  it('marks them synced by a round a replica timeout after one found every member at its epoch', async () => {
    const e = 'e:1';
    const before = new RingEpoch(1, ringOf([a, b, c, self, e]));
    // e is removed: self gains ranges whose previous owners a, b and c still hold.
    const after = new RingEpoch(2, ringOf([a, b, c, self]));
    const { rebalancer, pulls, place, unsynced } = rig(() => true);
    unsynced.update(before);
    unsynced.synced(before);
    place(after);
    const gained = unsynced.size;
    expect(gained).toBeGreaterThan(0);
    let syncedAt: number | undefined;
    for (let i = 0; i < 100 && syncedAt === undefined; i++) {
      await jest.advanceTimersByTimeAsync(50);
      if (unsynced.size < gained) syncedAt = Date.now();
    }
    rebalancer.close();
    const firstRoundEnd = (pulls.find((p) => p.peer === c) as { at: number }).at;
    expect(syncedAt).toBeGreaterThanOrEqual(firstRoundEnd + IN_FLIGHT_MS);
  });
});

describe('Rebalancer: a member that leaves the ring', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  it('has its sync connection reset, so a round waiting on a request to it moves on', async () => {
    // b stopped answering mid-round (a partition), then the coordinator removed it.
    const { rebalancer, pulls, place, forgotten } = rig((peer) => peer !== b || 'hangs');
    place(new RingEpoch(5, ringOf([a, b, c, self])));
    await jest.advanceTimersByTimeAsync(1000);
    expect(pulls.map((p) => p.peer)).toEqual([a, b]);
    const placedAt = Date.now();
    place(new RingEpoch(6, ringOf([a, c, self])));
    expect(forgotten).toEqual([b]);
    await jest.advanceTimersByTimeAsync(1000);
    rebalancer.close();
    // A round at the new epoch pulled from every member left, once peers had a heartbeat
    // to learn the epoch.
    const atSix = pulls.filter((p) => p.epoch === 6);
    expect(atSix.map((p) => p.peer)).toEqual(expect.arrayContaining([a, c]));
    expect(Math.min(...atSix.map((p) => p.at))).toBeGreaterThanOrEqual(placedAt + HEARTBEAT_MS);
    // Members that stay keep their connections.
    place(new RingEpoch(7, ringOf([a, c, self])));
    expect(forgotten).toEqual([b]);
  });
});
