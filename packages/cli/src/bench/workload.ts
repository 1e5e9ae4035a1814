import { ZipfianGenerator, type RandomSource } from './zipfian';

/**
 * The workloads `kv bench` runs, after YCSB's core workloads A, B and C, plus a write-only
 * one: the share of operations that are reads (GET); the rest are updates (PUT).
 */
export const WORKLOADS = {
  a: { readShare: 0.5, description: '50% read / 50% update' },
  b: { readShare: 0.95, description: '95% read / 5% update' },
  c: { readShare: 1, description: 'read only' },
  w: { readShare: 0, description: 'write only' },
} as const;

/** One of the {@link WORKLOADS}' names. */
export type WorkloadName = keyof typeof WORKLOADS;

/** How keys are chosen: every key alike, or a few keys far more often (YCSB's Zipfian). */
export const DISTRIBUTIONS = ['uniform', 'zipfian'] as const;

/** One of the {@link DISTRIBUTIONS}. */
export type Distribution = (typeof DISTRIBUTIONS)[number];

/** What one operation does. */
export const OPERATIONS = ['read', 'update'] as const;

/** `read` (GET) or `update` (PUT). */
export type Operation = (typeof OPERATIONS)[number];

/** Whether `name` names a workload. */
export function isWorkloadName(name: string): name is WorkloadName {
  return Object.hasOwn(WORKLOADS, name);
}

/** Whether `name` names a key distribution. */
export function isDistribution(name: string): name is Distribution {
  return (DISTRIBUTIONS as readonly string[]).includes(name);
}

/** The key of key number `index`: `bench:<index>`. */
export function keyName(index: number): string {
  return `bench:${index}`;
}

/** Options of {@link Workload}. */
export interface WorkloadOptions {
  readonly workload: WorkloadName;
  /** Size of the key space: keys 0 to `keys - 1`. */
  readonly keys: number;
  readonly distribution: Distribution;
  /** The uniform source; a seeded one makes the sequence repeatable. @default Math.random */
  readonly random?: RandomSource;
}

/** The next operation of a workload and its key. */
export interface Step {
  readonly operation: Operation;
  readonly key: string;
}

/**
 * The sequence of operations of a workload: each is a read with the workload's read share,
 * else an update, on a key drawn from the distribution.
 */
export class Workload {
  /** The workload's name. */
  readonly name: WorkloadName;
  private readonly readShare: number;
  private readonly random: RandomSource;
  private readonly nextIndex: () => number;

  constructor(options: WorkloadOptions) {
    this.name = options.workload;
    this.readShare = WORKLOADS[options.workload].readShare;
    this.random = options.random ?? Math.random;
    const { keys } = options;
    if (options.distribution === 'zipfian') {
      const zipf = new ZipfianGenerator(keys, this.random);
      this.nextIndex = () => zipf.next();
    } else {
      this.nextIndex = () => Math.floor(this.random() * keys);
    }
  }

  /** The next operation and key. */
  next(): Step {
    // Fixed shares need no draw: workload c never writes and w never reads.
    const operation: Operation =
      this.readShare === 1 || (this.readShare > 0 && this.random() < this.readShare)
        ? 'read'
        : 'update';
    return { operation, key: keyName(this.nextIndex()) };
  }
}
