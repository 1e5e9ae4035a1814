import { TOKEN_SPACE, token, type Ring } from '@kv/ring';
import type { MemberStatus } from './member-state';
import type { NodeProbe, NodeStats } from './node-probe';
import type { Progress, RebalanceProgress } from './rebalance-progress';

/** Slices the dashboard's ring circle is drawn with. */
export const RING_SLICES = 360;

/** One member as the dashboard shows it. */
export interface MemberView extends MemberStatus {
  /** Share of the token space for which it is the primary, in the ring being moved to. */
  readonly primaryShare: number;
  /** Share for which it holds a replica (primary included). */
  readonly replicaShare: number;
  /** Its INFO figures; null for a dead member (not asked). */
  readonly stats: NodeStats | null;
  /** Its data movement, while there is some to show. */
  readonly rebalance: Progress | null;
}

/** What `/api/cluster` answers. */
export interface ClusterView {
  readonly epoch: number;
  readonly replicationFactor: number;
  readonly failureTimeoutMs: number;
  /** Member ids in ring order; slices refer to them by index. */
  readonly ringMembers: readonly string[];
  /** For each of {@link RING_SLICES} equal arcs clockwise from token 0, its primary's index. */
  readonly slices: readonly number[];
  readonly members: readonly MemberView[];
}

/** Where the view's facts come from. */
export interface ClusterViewSources {
  readonly epoch: () => number;
  /** The ring writes go by (the read ring, with joining members in, leaving ones out). */
  readonly target: () => Ring;
  readonly members: () => readonly MemberStatus[];
  readonly failureTimeoutMs: number;
  readonly probe: NodeProbe;
  readonly progress: RebalanceProgress;
}

/** Assembles the dashboard's picture of the cluster. */
export class ClusterViewBuilder {
  private slices: { ring: Ring; ids: string[]; slices: number[] } | undefined;

  constructor(private readonly sources: ClusterViewSources) {}

  async build(): Promise<ClusterView> {
    const { sources } = this;
    const members = sources.members();
    const ring = sources.target();
    const live = members.filter((m) => m.state !== 'dead').map((m) => m.id);
    const stats = await sources.probe.read(live);
    const shares = new Map(ring.size > 0 ? ring.ownership().map((o) => [o.id, o]) : []);
    sources.progress.retain(new Set(members.map((m) => m.id)));
    const { ids, slices } = this.slicesOf(ring);
    return {
      epoch: sources.epoch(),
      replicationFactor: ring.replicationFactor,
      failureTimeoutMs: sources.failureTimeoutMs,
      ringMembers: ids,
      slices,
      members: members.map((member) => {
        const own = member.state === 'dead' ? null : (stats.get(member.id) ?? null);
        const moving = member.state === 'joining' || member.state === 'leaving';
        const pending = own ? own.unsyncedRanges + own.syncPeersPending + own.handoffPending : 0;
        return {
          ...member,
          primaryShare: shares.get(member.id)?.primary ?? 0,
          replicaShare: shares.get(member.id)?.replica ?? 0,
          stats: own,
          rebalance:
            member.state === 'dead'
              ? null
              : (sources.progress.update(member.id, { moving, pending }) ?? null),
        };
      }),
    };
  }

  /** The replicas of `key`: its token and preference list in the ring writes go by. */
  replicasOf(key: string): { key: string; token: string; replicas: string[] } {
    const ring = this.sources.target();
    return {
      key,
      token: token(key).toString(16).padStart(12, '0'),
      replicas: ring.size === 0 ? [] : ring.preferenceList(key),
    };
  }

  /** Ring slices, computed once per ring. */
  private slicesOf(ring: Ring): { ids: string[]; slices: number[] } {
    if (this.slices?.ring !== ring) {
      const ids = ring.size === 0 ? [] : ring.ownership().map((o) => o.id);
      const index = new Map(ids.map((id, i) => [id, i]));
      const slices: number[] = [];
      for (let i = 0; i < RING_SLICES; i++) {
        const mid = Math.floor(((i + 0.5) * TOKEN_SPACE) / RING_SLICES);
        const owner = ring.size === 0 ? undefined : ring.preferenceListForToken(mid, 1)[0];
        slices.push(owner === undefined ? -1 : (index.get(owner) ?? -1));
      }
      this.slices = { ring, ids, slices };
    }
    return this.slices;
  }
}
