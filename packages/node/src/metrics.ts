import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import {
  HistogramCell,
  LATENCY_BUCKETS,
  RecentHistogram,
  registerHistograms,
} from './histogram-cell';
import type { LogSync } from './write-ahead-log';
import {
  COMMANDS_METRIC,
  COMMAND_LATENCY_METRIC,
  COUNTERS,
  GAUGES,
  LIVE_GAUGES,
  LOG_SYNC_METRIC,
  REJECTED_METRIC,
  REPLICA_LATENCY_METRIC,
  type CounterName,
  type GaugeName,
  type LiveGaugeName,
  type MetricSpec,
} from './metric-names';

/** What a command's calls add up to: its counts by result and its latency. */
export class CommandCells {
  ok = 0;
  error = 0;
  readonly latency = new HistogramCell(LATENCY_BUCKETS);

  /** Records one call that took `seconds`. */
  record(ok: boolean, seconds: number): void {
    if (ok) this.ok++;
    else this.error++;
    this.latency.observe(seconds);
  }
}

/** A counter as code updates it: a plain number, read by the registry when scraped. */
export class CounterCell {
  value = 0;

  inc(by = 1): void {
    this.value += by;
  }
}

/**
 * A gauge as code updates it: a plain number, read by the registry when scraped; or, once
 * {@link GaugeCell.follow} was called, a value computed when read.
 */
export class GaugeCell {
  private current = 0;
  private source: (() => number) | undefined;

  get value(): number {
    return this.source ? this.source() : this.current;
  }

  set(value: number): void {
    this.current = value;
  }

  /** Reads the gauge from `source` from now on (a value kept elsewhere, read when asked). */
  follow(source: () => number): void {
    this.source = source;
  }
}

/**
 * The metrics of one node, in a prom-client {@link Registry} of its own (several nodes may
 * share a process). Code updates plain numbers, so a request pays an increment and no
 * label hashing; the registry reads them when collected, and INFO reads them as they are.
 */
export class NodeMetrics {
  /** Content type of the exposition {@link NodeMetrics.registry} renders. */
  static readonly contentType: string = Registry.PROMETHEUS_CONTENT_TYPE;
  readonly registry = new Registry();
  readonly counters: { readonly [K in CounterName]: CounterCell };
  readonly gauges: { readonly [K in GaugeName]: GaugeCell };
  /** Requests refused before any command ran. */
  readonly rejected = new CounterCell();
  /** Round trips of replica requests. */
  readonly replicaLatency = new HistogramCell(LATENCY_BUCKETS);
  /** Syncs of the write-ahead log. */
  readonly logSyncs = new HistogramCell(LATENCY_BUCKETS);
  /** The same syncs, of the last minute or two (INFO's p99). */
  readonly recentLogSyncs = new RecentHistogram(LATENCY_BUCKETS);
  private readonly calls = new Map<string, CommandCells>();
  private readonly sources: { [K in LiveGaugeName]: () => number };
  private defaultMetrics = false;

  /** @param commands - the command names counted by {@link command} */
  constructor(commands: readonly string[] = []) {
    const registers = [this.registry];
    this.counters = mapSpecs(COUNTERS, (spec) => {
      const cell = new CounterCell();
      new Counter({
        ...spec,
        registers,
        collect() {
          this.reset();
          this.inc(cell.value);
        },
      });
      return cell;
    });
    this.gauges = mapSpecs(GAUGES, (spec) => {
      const cell = new GaugeCell();
      new Gauge({
        ...spec,
        registers,
        collect() {
          this.set(cell.value);
        },
      });
      return cell;
    });
    const sources = (this.sources = mapSpecs(LIVE_GAUGES, () => () => 0));
    for (const key of Object.keys(LIVE_GAUGES) as LiveGaugeName[]) {
      new Gauge({
        ...LIVE_GAUGES[key],
        registers,
        collect() {
          this.set(sources[key]());
        },
      });
    }
    for (const name of commands) this.calls.set(name, new CommandCells());
    const calls = this.calls;
    new Counter({
      ...COMMANDS_METRIC,
      labelNames: ['command', 'result'],
      registers,
      collect() {
        this.reset();
        for (const [command, cell] of calls) {
          if (cell.ok > 0) this.inc({ command, result: 'ok' }, cell.ok);
          if (cell.error > 0) this.inc({ command, result: 'error' }, cell.error);
        }
      },
    });
    const rejected = this.rejected;
    new Counter({
      ...REJECTED_METRIC,
      registers,
      collect() {
        this.reset();
        this.inc(rejected.value);
      },
    });
    registerHistograms(this.registry, COMMAND_LATENCY_METRIC, 'command', () =>
      [...calls].filter(([, cell]) => cell.latency.count > 0).map(([c, cell]) => [c, cell.latency]),
    );
    registerHistograms(this.registry, REPLICA_LATENCY_METRIC, undefined, () => [
      ['', this.replicaLatency],
    ]);
    registerHistograms(this.registry, LOG_SYNC_METRIC, undefined, () => [['', this.logSyncs]]);
  }

  /** Counts one sync of the write-ahead log. */
  logSynced(sync: LogSync): void {
    this.logSyncs.observe(sync.seconds);
    this.recentLogSyncs.observe(sync.seconds);
    this.counters.logSyncedWrites.inc(sync.writes);
    this.counters.logSyncedBytes.inc(sync.bytes);
  }

  /** The cells of command `name`, or undefined for a name not given to the constructor. */
  command(name: string): CommandCells | undefined {
    return this.calls.get(name);
  }

  /** Sets what the {@link LIVE_GAUGES} read when scraped. */
  readFrom(sources: Partial<{ [K in LiveGaugeName]: () => number }>): void {
    Object.assign(this.sources, sources);
  }

  /**
   * Adds prom-client's process metrics (CPU, memory, handles, GC, event-loop lag) to this
   * registry. Only for a process that serves `/metrics`: the event-loop monitor runs until
   * the process exits. Once per registry.
   */
  collectProcessMetrics(): void {
    if (this.defaultMetrics) return;
    this.defaultMetrics = true;
    collectDefaultMetrics({ register: this.registry });
  }

  /** Calls per command, for commands called at least once. */
  commandCalls(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [name, cell] of this.calls) {
      const calls = cell.ok + cell.error;
      if (calls > 0) out.set(name, calls);
    }
    return out;
  }

  /** The 99th percentile latency of commands in `names`, in seconds; 0 before any call. */
  p99(names: Iterable<string>): number {
    const merged = new HistogramCell(LATENCY_BUCKETS);
    for (const name of names) {
      const cell = this.calls.get(name);
      if (cell) merged.add(cell.latency);
    }
    return merged.quantile(0.99);
  }
}

function mapSpecs<K extends string, T>(
  specs: Record<K, MetricSpec>,
  make: (spec: MetricSpec) => T,
): { [P in K]: T } {
  return Object.fromEntries((Object.keys(specs) as K[]).map((key) => [key, make(specs[key])])) as {
    [P in K]: T;
  };
}
