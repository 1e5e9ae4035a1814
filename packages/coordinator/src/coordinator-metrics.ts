import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { MemberState, type MemberStatus } from './member-state';

/** What the coordinator's metrics read when scraped. */
export interface CoordinatorMetricSources {
  readonly epoch: () => number;
  /** Every member, dead ones still remembered included. */
  readonly members: () => readonly MemberStatus[];
  /** Requests served so far. */
  readonly commands: () => number;
  /** Whether this coordinator leads (always, for a single coordinator). */
  readonly leading: () => boolean;
}

/** Every metric the coordinator exports, by Prometheus name. */
export const COORDINATOR_METRICS = {
  epoch: { name: 'kv_coordinator_ring_epoch', help: 'Current ring epoch.' },
  members: {
    name: 'kv_coordinator_members',
    help: 'Members by state (up, probation, joining, leaving, dead remembered).',
  },
  heartbeatAge: {
    name: 'kv_coordinator_heartbeat_age_seconds',
    help: 'Seconds since each member last heartbeated.',
  },
  commands: { name: 'kv_coordinator_commands_total', help: 'Requests the coordinator served.' },
  leader: {
    name: 'kv_coordinator_leader',
    help: '1 while this coordinator leads (always for a single coordinator), 0 while it follows.',
  },
} as const;

const STATES: readonly MemberState[] = Object.values(MemberState);

/**
 * The coordinator's prom-client registry: membership as gauges read when scraped, so the
 * request path pays nothing. Member labels are bounded by the cluster's size.
 */
export class CoordinatorMetrics {
  readonly registry = new Registry();
  private processMetrics = false;

  constructor(sources: CoordinatorMetricSources) {
    const registers = [this.registry];
    new Gauge({
      ...COORDINATOR_METRICS.epoch,
      registers,
      collect() {
        this.set(sources.epoch());
      },
    });
    new Gauge({
      ...COORDINATOR_METRICS.members,
      labelNames: ['state'],
      registers,
      collect() {
        const counts = new Map<string, number>(STATES.map((state) => [state, 0]));
        for (const member of sources.members())
          counts.set(member.state, (counts.get(member.state) ?? 0) + 1);
        for (const [state, count] of counts) this.set({ state }, count);
      },
    });
    new Gauge({
      ...COORDINATOR_METRICS.heartbeatAge,
      labelNames: ['member', 'state'],
      registers,
      collect() {
        this.reset();
        for (const member of sources.members())
          this.set({ member: member.id, state: member.state }, member.heartbeatAgeMs / 1000);
      },
    });
    new Gauge({
      ...COORDINATOR_METRICS.leader,
      registers,
      collect() {
        this.set(sources.leading() ? 1 : 0);
      },
    });
    new Counter({
      ...COORDINATOR_METRICS.commands,
      registers,
      collect() {
        this.reset();
        this.inc(sources.commands());
      },
    });
  }

  /** Adds prom-client's process metrics (CPU, memory, event-loop lag); once. */
  collectProcessMetrics(): void {
    if (this.processMetrics) return;
    this.processMetrics = true;
    collectDefaultMetrics({ register: this.registry });
  }
}
