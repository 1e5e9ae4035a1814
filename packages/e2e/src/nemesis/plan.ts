import { isScenarioName, SCENARIO_NAMES, type ScenarioName } from './scenarios';

/** Which runs a suite invocation makes. */
export interface NemesisPlan {
  readonly profile: Profile;
  readonly runs: readonly { readonly scenario: ScenarioName; readonly seed: number }[];
}

/**
 * `full` (`npm run test:nemesis`): every scenario with seeds 1-5. `short` (CI): one seed
 * of the scenarios today's code passes, so that CI stays green and catches regressions;
 * the others join it as their fixes land.
 */
export const PROFILES = {
  full: { scenarios: SCENARIO_NAMES, seeds: [1, 2, 3, 4, 5] },
  short: {
    scenarios: [
      'minority-partition',
      'isolated-coordinator',
      'coordinator-minority-lone-crash',
      'kill-restart',
      'kill-restart-durable',
      'coordinator-minority-crash-durable',
      'pause',
      'skew-120s',
    ] as ScenarioName[],
    seeds: [1],
  },
} as const satisfies Record<
  string,
  { scenarios: readonly ScenarioName[]; seeds: readonly number[] }
>;

export type Profile = keyof typeof PROFILES;

/** `1,2,7-9` → [1, 2, 7, 8, 9]. */
export function parseSeeds(text: string): number[] {
  const seeds: number[] = [];
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const range = /^(\d+)-(\d+)$/.exec(part);
    if (range) {
      const [from, to] = [Number(range[1]), Number(range[2])];
      if (to < from) throw new Error(`NEMESIS_SEEDS: empty range ${part}`);
      for (let seed = from; seed <= to; seed++) seeds.push(seed);
    } else if (/^\d+$/.test(part)) seeds.push(Number(part));
    else
      throw new Error(`NEMESIS_SEEDS: ${JSON.stringify(part)} is not a seed or a range (1,2,7-9)`);
  }
  return seeds;
}

/**
 * The plan from the environment: `NEMESIS_PROFILE` (full or short, default full), then
 * `NEMESIS_SCENARIOS` (comma-separated names) and `NEMESIS_SEEDS` (`1,2,7-9`) to override
 * the profile's.
 */
export function planFromEnv(env: NodeJS.ProcessEnv): NemesisPlan {
  const profileName = env['NEMESIS_PROFILE'] || 'full';
  if (!Object.hasOwn(PROFILES, profileName))
    throw new Error(
      `NEMESIS_PROFILE must be one of ${Object.keys(PROFILES).join(', ')}, got ${profileName}`,
    );
  const profile = profileName as Profile;
  const names = env['NEMESIS_SCENARIOS']
    ?.split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  const unknown = names?.filter((n) => !isScenarioName(n)) ?? [];
  if (unknown.length > 0)
    throw new Error(
      `NEMESIS_SCENARIOS: no scenario ${unknown.join(', ')}; there are ${SCENARIO_NAMES.join(', ')}`,
    );
  const scenarios = (names?.length ? names : PROFILES[profile].scenarios) as ScenarioName[];
  const seeds = env['NEMESIS_SEEDS']
    ? parseSeeds(env['NEMESIS_SEEDS'])
    : [...PROFILES[profile].seeds];
  return {
    profile,
    runs: scenarios.flatMap((scenario) => seeds.map((seed) => ({ scenario, seed }))),
  };
}
