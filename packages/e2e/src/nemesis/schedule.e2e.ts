import { blockedPeers, filterRules } from './firewall';
import { firstKeys } from './keys';
import { planFromEnv, parseSeeds, PROFILES } from './plan';
import { isDurable, SCENARIO_NAMES, SCENARIOS, scheduleOf, type ScenarioName } from './scenarios';
import { describeSchedule, NODE_HOSTS, picker, type Fault, type ScenarioSpec } from './schedule';
import { seededRandom } from '../harness/seeded-random';

const TIMINGS = { faultPhaseMs: 30_000, durationMs: [2000, 7000], gapMs: [1000, 4000] } as const;

function schedule(scenario: ScenarioName, seed: number): ReturnType<typeof scheduleOf> {
  return scheduleOf(scenario, seed, TIMINGS, firstKeys());
}

function partitions(scenario: ScenarioName, seed: number): Extract<Fault, { kind: 'partition' }>[] {
  return schedule(scenario, seed)
    .episodes.flatMap((e) => e.faults)
    .filter((f): f is Extract<Fault, { kind: 'partition' }> => f.kind === 'partition');
}

describe('nemesis schedules (pure)', () => {
  it('are the same for the same scenario and seed, and differ with either', () => {
    for (const scenario of SCENARIO_NAMES) {
      expect(schedule(scenario, 7)).toEqual(schedule(scenario, 7));
    }
    expect(schedule('pause', 1)).not.toEqual(schedule('pause', 2));
    expect(schedule('pause', 1).episodes).not.toEqual(schedule('kill-restart', 1).episodes);
  });

  it('fit their episodes, one after another, within the fault phase', () => {
    for (const scenario of SCENARIO_NAMES) {
      const spec: ScenarioSpec = SCENARIOS[scenario];
      const [shortest, longest] = spec.durationMs ?? TIMINGS.durationMs;
      for (let seed = 1; seed <= 20; seed++) {
        const { episodes } = schedule(scenario, seed);
        let free = 0;
        for (const e of episodes) {
          expect(e.at).toBeGreaterThanOrEqual(free);
          expect(e.duration).toBeGreaterThanOrEqual(shortest);
          expect(e.duration).toBeLessThanOrEqual(longest);
          for (const f of e.faults) expect(f.afterMs ?? 0).toBeLessThan(e.duration);
          expect(e.at + e.duration).toBeLessThanOrEqual(TIMINGS.faultPhaseMs);
          if (free > 0) expect(e.at - free).toBeGreaterThanOrEqual(TIMINGS.gapMs[0]);
          free = e.at + e.duration;
        }
      }
    }
  });

  it('give every fault scenario several episodes, and the skew-only ones none', () => {
    for (const scenario of SCENARIO_NAMES) {
      const { episodes, skew } = schedule(scenario, 3);
      if (scenario === 'skew-2s' || scenario === 'skew-120s') {
        expect(episodes).toEqual([]);
        expect(skew?.offsetMs).toBe(scenario === 'skew-2s' ? 2000 : 120_000);
      } else {
        expect(episodes.length).toBeGreaterThanOrEqual(3);
      }
    }
  });

  it('put nodes on data directories in the durable scenarios alone, which fault as their memory twins do', () => {
    expect(SCENARIO_NAMES.filter(isDurable)).toEqual([
      'coordinator-minority-crash-durable',
      'kill-restart-durable',
    ]);
    for (let seed = 1; seed <= 5; seed++) {
      expect(schedule('kill-restart-durable', seed).episodes.map((e) => e.faults[0]?.kind)).toEqual(
        schedule('kill-restart-durable', seed).episodes.map(() => 'kill'),
      );
      for (const { faults } of schedule('coordinator-minority-crash-durable', seed).episodes) {
        expect(faults.map((f) => f.kind)).toEqual(['partition', 'kill']);
        const [cut, kill] = faults;
        if (cut?.kind !== 'partition' || kill?.kind !== 'kill')
          throw new Error('unexpected faults');
        const [withCoordinator = [], rest = []] = cut.groups;
        expect(withCoordinator).toContain('coord');
        expect(withCoordinator).toHaveLength(2);
        // The node killed is on the far side of the cut.
        expect(rest).toContain(kill.host);
      }
    }
  });

  it('cut off minorities: one or two nodes, the coordinator always on the majority side', () => {
    for (let seed = 1; seed <= 20; seed++) {
      for (const { groups } of partitions('minority-partition', seed)) {
        const [minority = [], majority = []] = groups;
        expect(minority.length === 1 || minority.length === 2).toBe(true);
        expect(majority).toContain('coord');
        expect([...minority, ...majority].sort()).toEqual(['coord', ...NODE_HOSTS].sort());
      }
    }
  });

  it('put the coordinator with one node and crash a node of the other side', () => {
    for (let seed = 1; seed <= 20; seed++) {
      for (const { faults } of schedule('coordinator-minority-crash', seed).episodes) {
        const [partition, kill] = faults;
        expect(partition?.kind).toBe('partition');
        expect(kill?.kind).toBe('kill');
        if (partition?.kind !== 'partition' || kill?.kind !== 'kill') continue;
        const [minority = []] = partition.groups;
        expect(minority).toHaveLength(2);
        expect(minority).toContain('coord');
        expect(minority).not.toContain(kill.host);
      }
    }
  });

  it('kill the node cut off with the coordinator once deaths can be declared, in coordinator-minority-lone-crash', () => {
    for (let seed = 1; seed <= 20; seed++) {
      for (const { faults, duration } of schedule('coordinator-minority-lone-crash', seed)
        .episodes) {
        const [partition, kill] = faults;
        if (partition?.kind !== 'partition' || kill?.kind !== 'kill')
          throw new Error('unexpected faults');
        expect(partition.groups[0]).toEqual(['coord', kill.host]);
        // Past the 3 s failure timeout, and at least a second before the episode ends.
        expect(kill.afterMs).toBeGreaterThanOrEqual(4000);
        expect(kill.afterMs).toBeLessThanOrEqual(duration - 1000);
      }
    }
  });

  it('cut off the skewed node, and only it, in skew-120s-partitioned', () => {
    for (let seed = 1; seed <= 10; seed++) {
      const { skew } = schedule('skew-120s-partitioned', seed);
      expect(skew?.offsetMs).toBe(120_000);
      for (const { groups } of partitions('skew-120s-partitioned', seed))
        expect(groups[0]).toEqual([skew?.host]);
    }
  });

  it('isolate the primary of a key of the workload', () => {
    const keys = firstKeys();
    for (const { faults } of schedule('isolated-primary', 4).episodes) {
      expect(faults).toHaveLength(1);
      const [fault] = faults;
      expect(fault?.kind === 'isolate-primary' && keys.includes(fault.key)).toBe(true);
    }
  });

  it('read as one line per episode', () => {
    const lines = describeSchedule(schedule('skew-120s-partitioned', 1));
    expect(lines[0]).toMatch(/^clock of n\d \+120 s$/);
    expect(lines[1]).toMatch(/^ +\d+ ms \+\d+ ms: partition n\d \| coord\+/);
    const [crash] = describeSchedule(schedule('coordinator-minority-lone-crash', 1));
    expect(crash).toMatch(
      /: partition coord\+(n\d) \| .*, \d+ ms in: kill -9 \1, restarted at the end$/,
    );
  });

  it('pick distinct items', () => {
    const pick = picker(seededRandom(5));
    for (let i = 0; i < 50; i++) {
      const some = pick.some(NODE_HOSTS, 3);
      expect(new Set(some).size).toBe(3);
    }
    expect(pick.some(NODE_HOSTS, 9)).toHaveLength(NODE_HOSTS.length);
  });
});

describe('nemesis partitions (pure)', () => {
  it('block every pair of hosts in different groups, both ways, and nothing else', () => {
    const blocked = blockedPeers([['n1'], ['n2', 'coord'], ['n3']]);
    expect(blocked.get('n1')?.sort()).toEqual(['coord', 'n2', 'n3']);
    expect(blocked.get('n2')?.sort()).toEqual(['n1', 'n3']);
    expect(blocked.get('coord')?.sort()).toEqual(['n1', 'n3']);
    expect(blocked.get('n4')).toBeUndefined();
    expect(blockedPeers([]).size).toBe(0);
  });

  it('become an iptables-restore table dropping both directions', () => {
    const rules = filterRules(['198.18.0.11']);
    expect(rules).toContain('-A INPUT -s 198.18.0.11/32 -j DROP');
    expect(rules).toContain('-A OUTPUT -d 198.18.0.11/32 -j DROP');
    expect(rules.trim().endsWith('COMMIT')).toBe(true);
    expect(filterRules([])).not.toContain('DROP');
  });
});

describe('nemesis plans (pure)', () => {
  it('run every scenario with five seeds by default, and the short profile for CI', () => {
    const full = planFromEnv({});
    expect(full.profile).toBe('full');
    expect(full.runs).toHaveLength(SCENARIO_NAMES.length * 5);
    const short = planFromEnv({ NEMESIS_PROFILE: 'short' });
    expect(short.runs.map((r) => r.scenario)).toEqual(PROFILES.short.scenarios);
  });

  it('take scenarios and seeds from the environment', () => {
    const plan = planFromEnv({ NEMESIS_SCENARIOS: 'pause, skew-2s', NEMESIS_SEEDS: '3,8-9' });
    expect(plan.runs).toEqual([
      { scenario: 'pause', seed: 3 },
      { scenario: 'pause', seed: 8 },
      { scenario: 'pause', seed: 9 },
      { scenario: 'skew-2s', seed: 3 },
      { scenario: 'skew-2s', seed: 8 },
      { scenario: 'skew-2s', seed: 9 },
    ]);
    expect(parseSeeds('1-3,5')).toEqual([1, 2, 3, 5]);
  });

  it('refuse what they do not know', () => {
    expect(() => planFromEnv({ NEMESIS_SCENARIOS: 'flood' })).toThrow(/no scenario flood/);
    expect(() => planFromEnv({ NEMESIS_SEEDS: 'x' })).toThrow(/not a seed/);
    expect(() => planFromEnv({ NEMESIS_PROFILE: 'huge' })).toThrow(/full, short/);
  });
});
