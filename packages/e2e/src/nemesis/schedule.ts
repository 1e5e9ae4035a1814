import { seededRandom } from '../harness/seeded-random';
import type { Host } from './network';

/** What a fault does, as a schedule names it; the fault modules carry it out. */
export type FaultAction =
  /** Groups of hosts that cannot reach each other (iptables DROP). */
  | { readonly kind: 'partition'; readonly groups: readonly (readonly Host[])[] }
  /** The key's primary, as the coordinator places it when the fault starts, cut off from every other host. */
  | { readonly kind: 'isolate-primary'; readonly key: string }
  /** SIGKILL, then a restart on the same address when the episode ends. */
  | { readonly kind: 'kill'; readonly host: Host }
  /** SIGSTOP, then SIGCONT when the episode ends. */
  | { readonly kind: 'pause'; readonly host: Host };

/** A fault of an episode: it starts `afterMs` into the episode (at once by default) and ends with it. */
export type Fault = FaultAction & { readonly afterMs?: number };

/** Faults that start together, `at` ms into the fault phase, and end `duration` ms later. */
export interface Episode {
  readonly at: number;
  readonly duration: number;
  readonly faults: readonly Fault[];
}

/** Everything a run does, from its scenario and seed alone. */
export interface Schedule {
  readonly scenario: string;
  readonly seed: number;
  /** A node whose wall clock runs `offsetMs` off for the whole run. */
  readonly skew?: { readonly host: Host; readonly offsetMs: number };
  readonly episodes: readonly Episode[];
  /** Length of the fault phase; every episode ends within it. */
  readonly faultPhaseMs: number;
}

/** Seeded choices. */
export interface Picker {
  /** An integer from `min` to `max`, both included. */
  between(min: number, max: number): number;
  one<T>(items: readonly T[]): T;
  /** `count` distinct items, in the order drawn. */
  some<T>(items: readonly T[], count: number): T[];
}

export function picker(random: () => number): Picker {
  const between = (min: number, max: number): number =>
    min + Math.floor(random() * (max - min + 1));
  const one = <T>(items: readonly T[]): T => {
    if (items.length === 0) throw new Error('cannot pick from nothing');
    return items[between(0, items.length - 1)] as T;
  };
  return {
    between,
    one,
    some: <T>(items: readonly T[], count: number): T[] => {
      const left = [...items];
      const chosen: T[] = [];
      while (chosen.length < count && left.length > 0)
        chosen.push(left.splice(between(0, left.length - 1), 1)[0] as T);
      return chosen;
    },
  };
}

/** 32-bit FNV-1a of a string: folds the scenario's name into its seed. */
export function hashName(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/** What an episode may pick from. */
export interface EpisodeContext {
  /** The node with the skewed clock, if the scenario has one. */
  readonly skewed: Host | undefined;
  /** The workload's keys. */
  readonly keys: readonly string[];
  /** How long the episode lasts. */
  readonly duration: number;
}

/** How a scenario fills its fault phase. */
export interface ScenarioSpec {
  /** One line for docs and reports. */
  readonly description: string;
  /** A node (chosen by the seed) runs this far off for the whole run. */
  readonly skewMs?: number;
  /** The faults of one episode; without it the run has no episodes. */
  readonly episode?: (pick: Picker, context: EpisodeContext) => Fault[];
  /** Shortest and longest episode, when the scenario needs other than the run's. */
  readonly durationMs?: readonly [number, number];
  /**
   * The nodes keep their records on disk (`--data-dir`, `--fsync always`), so a node killed
   * and restarted comes back with what it acknowledged rather than empty.
   */
  readonly durable?: boolean;
}

/** Timings of episodes. */
export interface EpisodeTimings {
  readonly faultPhaseMs: number;
  /** Shortest and longest episode. */
  readonly durationMs: readonly [number, number];
  /** Shortest and longest healthy gap after an episode. */
  readonly gapMs: readonly [number, number];
}

export const NODE_HOSTS: readonly Host[] = ['n1', 'n2', 'n3', 'n4', 'n5'];

/**
 * The schedule of a scenario for a seed: the same name, seed and timings always give the
 * same skew, episodes, faults and times. Pure.
 */
export function makeSchedule(
  scenario: string,
  spec: ScenarioSpec,
  seed: number,
  timings: EpisodeTimings,
  keys: readonly string[],
): Schedule {
  const pick = picker(seededRandom((hashName(scenario) ^ Math.imul(seed, 0x9e3779b1)) >>> 0));
  const skewed = spec.skewMs === undefined ? undefined : pick.one(NODE_HOSTS);
  const episodes: Episode[] = [];
  if (spec.episode) {
    let at = pick.between(0, timings.gapMs[0]);
    for (;;) {
      const duration = pick.between(...(spec.durationMs ?? timings.durationMs));
      if (at + duration > timings.faultPhaseMs) break;
      episodes.push({ at, duration, faults: spec.episode(pick, { skewed, keys, duration }) });
      at += duration + pick.between(...timings.gapMs);
    }
  }
  return {
    scenario,
    seed,
    ...(skewed && spec.skewMs !== undefined
      ? { skew: { host: skewed, offsetMs: spec.skewMs } }
      : {}),
    episodes,
    faultPhaseMs: timings.faultPhaseMs,
  };
}

function describeFault(fault: Fault): string {
  return `${fault.afterMs ? `${fault.afterMs} ms in: ` : ''}${describeAction(fault)}`;
}

function describeAction(fault: FaultAction): string {
  switch (fault.kind) {
    case 'partition':
      return `partition ${fault.groups.map((g) => g.join('+')).join(' | ')}`;
    case 'isolate-primary':
      return `isolate the primary of ${fault.key}`;
    case 'kill':
      return `kill -9 ${fault.host}, restarted at the end`;
    case 'pause':
      return `pause ${fault.host}`;
  }
}

/** One line per episode, e.g. `  1200 ms +3400 ms: pause n2`. */
export function describeSchedule(schedule: Schedule): string[] {
  return [
    ...(schedule.skew
      ? [
          `clock of ${schedule.skew.host} ${schedule.skew.offsetMs >= 0 ? '+' : ''}${schedule.skew.offsetMs / 1000} s`,
        ]
      : []),
    ...schedule.episodes.map(
      (e) =>
        `${String(e.at).padStart(6)} ms +${e.duration} ms: ${e.faults.map(describeFault).join(', ')}`,
    ),
  ];
}
