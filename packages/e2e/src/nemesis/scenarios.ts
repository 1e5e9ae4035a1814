import type { Host } from './network';
import {
  makeSchedule,
  NODE_HOSTS,
  type EpisodeTimings,
  type Fault,
  type Schedule,
  type ScenarioSpec,
} from './schedule';

function others(hosts: readonly Host[]): Host[] {
  return (['coord', ...NODE_HOSTS] as Host[]).filter((h) => !hosts.includes(h));
}

/** Cuts `hosts` off from every other host. */
function cutOff(hosts: readonly Host[]): Fault {
  return { kind: 'partition', groups: [[...hosts], others(hosts)] };
}

/** Every scenario of the suite, by name. */
export const SCENARIOS = {
  'minority-partition': {
    description: 'one or two nodes cut off from the coordinator and the other nodes',
    episode: (pick) => [cutOff(pick.some(NODE_HOSTS, pick.between(1, 2)))],
  },
  'isolated-primary': {
    description: "a key's primary cut off from every other server (clients still reach it)",
    episode: (pick, { keys }) => [{ kind: 'isolate-primary', key: pick.one(keys) }],
  },
  'isolated-coordinator': {
    description: 'the coordinator cut off from every node',
    episode: () => [cutOff(['coord'])],
  },
  'coordinator-minority-crash': {
    description:
      'the coordinator and one node cut off from the other four, one of which is killed (kill -9) and restarted after',
    episode: (pick) => {
      const [withCoordinator, crashed] = pick.some(NODE_HOSTS, 2) as [Host, Host];
      return [cutOff(['coord', withCoordinator]), { kind: 'kill', host: crashed }];
    },
  },
  'coordinator-minority-lone-crash': {
    description:
      'the coordinator and one node cut off from the other four long enough for deaths to be declared; then that node killed (kill -9), restarted after',
    durationMs: [6000, 9000],
    episode: (pick, { duration }) => {
      const lone = pick.one(NODE_HOSTS);
      const afterMs = duration - pick.between(1000, 2000);
      return [cutOff(['coord', lone]), { kind: 'kill', host: lone, afterMs }];
    },
  },
  'coordinator-minority-crash-durable': {
    description:
      'nodes with data directories; the coordinator and one node cut off from the other four, one of which is killed (kill -9) and restarted on its directory after',
    durable: true,
    episode: (pick) => {
      const [withCoordinator, crashed] = pick.some(NODE_HOSTS, 2) as [Host, Host];
      return [cutOff(['coord', withCoordinator]), { kind: 'kill', host: crashed }];
    },
  },
  'kill-restart': {
    description: 'a node killed (kill -9), then restarted on the same address',
    episode: (pick) => [{ kind: 'kill', host: pick.one(NODE_HOSTS) }],
  },
  'kill-restart-durable': {
    description:
      'nodes with data directories; a node killed (kill -9), then restarted on the same address and directory',
    durable: true,
    episode: (pick) => [{ kind: 'kill', host: pick.one(NODE_HOSTS) }],
  },
  pause: {
    description: 'a node paused (SIGSTOP), then resumed (SIGCONT)',
    episode: (pick) => [{ kind: 'pause', host: pick.one(NODE_HOSTS) }],
  },
  'skew-2s': {
    description: "a node's wall clock 2 s ahead (libfaketime), no other fault",
    skewMs: 2000,
  },
  'skew-120s': {
    description: "a node's wall clock 120 s ahead (libfaketime), no other fault",
    skewMs: 120_000,
  },
  'skew-120s-partitioned': {
    description:
      "a node's wall clock 120 s ahead, and that node cut off from the other servers now and then",
    skewMs: 120_000,
    episode: (_pick, { skewed }) => [cutOff([skewed as Host])],
  },
} satisfies Record<string, ScenarioSpec>;

export type ScenarioName = keyof typeof SCENARIOS;
export const SCENARIO_NAMES = Object.keys(SCENARIOS) as ScenarioName[];

export function isScenarioName(name: string): name is ScenarioName {
  return Object.hasOwn(SCENARIOS, name);
}

/** Whether the nodes of `scenario` keep their records on disk. */
export function isDurable(scenario: ScenarioName): boolean {
  const spec: ScenarioSpec = SCENARIOS[scenario];
  return spec.durable === true;
}

/** The schedule of a scenario for a seed (see {@link makeSchedule}). */
export function scheduleOf(
  scenario: ScenarioName,
  seed: number,
  timings: EpisodeTimings,
  keys: readonly string[],
): Schedule {
  return makeSchedule(scenario, SCENARIOS[scenario], seed, timings, keys);
}
