import { seededRandom } from './seeded-random';
import {
  WORKLOADS,
  Workload,
  isDistribution,
  isWorkloadName,
  keyName,
  type Distribution,
  type WorkloadName,
} from './workload';

function draw(workload: WorkloadName, distribution: Distribution, keys: number, n: number) {
  const w = new Workload({ workload, keys, distribution, random: seededRandom(11) });
  let reads = 0;
  const keyCounts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const step = w.next();
    if (step.operation === 'read') reads++;
    keyCounts.set(step.key, (keyCounts.get(step.key) ?? 0) + 1);
  }
  return { readShare: reads / n, keyCounts };
}

describe('Workload', () => {
  it.each([
    ['a', 0.5],
    ['b', 0.95],
    ['c', 1],
    ['w', 0],
  ] as const)('workload %s reads a %d share of operations, the rest updates', (name, share) => {
    expect(WORKLOADS[name].readShare).toBe(share);
    const { readShare } = draw(name, 'uniform', 100, 100_000);
    expect(Math.abs(readShare - share)).toBeLessThan(0.01);
  });

  it('never writes in workload c and never reads in workload w', () => {
    expect(draw('c', 'zipfian', 10, 10_000).readShare).toBe(1);
    expect(draw('w', 'zipfian', 10, 10_000).readShare).toBe(0);
  });

  it('chooses every key of the key space alike with the uniform distribution', () => {
    const { keyCounts } = draw('a', 'uniform', 10, 100_000);
    expect([...keyCounts.keys()].sort()).toEqual(
      Array.from({ length: 10 }, (_, i) => keyName(i)).sort(),
    );
    for (const n of keyCounts.values()) expect(Math.abs(n / 100_000 - 0.1)).toBeLessThan(0.01);
  });

  it('chooses low-numbered keys most with the zipfian distribution, all within the key space', () => {
    const { keyCounts } = draw('b', 'zipfian', 1000, 100_000);
    const count = (i: number): number => keyCounts.get(keyName(i)) ?? 0;
    expect(count(0)).toBeGreaterThan(count(1));
    expect(count(1)).toBeGreaterThan(count(500));
    for (const key of keyCounts.keys()) {
      const index = Number(key.slice('bench:'.length));
      expect(index >= 0 && index < 1000).toBe(true);
    }
  });

  it('repeats its sequence for the same seed', () => {
    const run = () => {
      const w = new Workload({
        workload: 'a',
        keys: 50,
        distribution: 'zipfian',
        random: seededRandom(9),
      });
      return Array.from({ length: 20 }, () => w.next());
    };
    expect(run()).toEqual(run());
  });

  it('recognises the names of workloads and distributions', () => {
    expect(['a', 'b', 'c', 'w'].every(isWorkloadName)).toBe(true);
    expect(isWorkloadName('d')).toBe(false);
    expect(isWorkloadName('toString')).toBe(false);
    expect(isDistribution('zipfian') && isDistribution('uniform')).toBe(true);
    expect(isDistribution('latest')).toBe(false);
    expect(keyName(42)).toBe('bench:42');
  });
});
