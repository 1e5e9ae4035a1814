import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AnomalyCounts, KeyState } from './anomalies';
import type { FenceState } from './faults/clock-skew';
import type { SettleResult } from './final-state';
import type { NemesisTimings } from './timings';

/** What one run did and found, as written to its JSON report. */
export interface RunReport {
  readonly scenario: string;
  readonly seed: number;
  /** `git rev-parse HEAD` of the code under test, when known. */
  readonly commit: string | undefined;
  readonly timings: NemesisTimings;
  /** The planned schedule, one line per episode. */
  readonly schedule: readonly string[];
  /** The skewed node, its planned offset, the offset measured, and its fence at the end. */
  readonly skew?: {
    readonly host: string;
    readonly offsetMs: number;
    readonly measuredMs: number;
    readonly fence: FenceState | undefined;
  };
  /** When the fault phase began and ended, settling ended and the workload after it ended (ms from the start of the run). */
  readonly phases: {
    readonly faultsStart: number;
    readonly faultsEnd: number;
    readonly settledAt: number;
    readonly quietEnd: number;
  };
  /** Faults as carried out, ms from the start of the run. */
  readonly faults: readonly {
    readonly start: number;
    readonly end: number;
    readonly description: string;
  }[];
  /** Operations of the workload by outcome (reads that failed included). */
  readonly operations: { readonly ok: number; readonly failed: number; readonly unknown: number };
  readonly settle: SettleResult;
  readonly finalSettle: SettleResult;
  readonly counts: AnomalyCounts;
  /** The anomalies that fail the run; empty when it passed. */
  readonly failing: readonly string[];
  /** The first violations of each kind, each with its key's history. */
  readonly violations: Readonly<Record<string, readonly string[]>>;
  readonly violationCount: number;
  /** The first keys whose owners disagree. */
  readonly divergent: readonly KeyState[];
  readonly durationMs: number;
}

function percent(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}

/** One line per run: the counts the done-criterion looks at, then the rest. */
export function summaryLine(report: RunReport): string {
  const c = report.counts;
  return [
    `nemesis ${report.scenario} seed ${report.seed}:`,
    `lost ${c.lostWrites}, resurrected ${c.resurrected}, divergent ${c.divergent},`,
    `missed reads after settling ${c.missedReadsAfterSettling}`,
    `(during faults ${c.missedReadsDuringFaults}, between ${c.missedReadsBetweenFaults}),`,
    `phantoms ${c.phantoms},`,
    `failed ops during faults ${percent(c.failedShareDuringFaults)} of ${c.operationsDuringFaults}`,
    `(outside ${percent(c.failedShareOutsideFaults)} of ${c.operationsOutsideFaults}),`,
    `settled ${report.settle.settled ? `in ${(report.settle.ms / 1000).toFixed(1)} s` : 'NOT'}${
      report.skew
        ? `, ${report.skew.host} ${report.skew.fence?.fenced ? 'fenced' : 'not fenced'}`
        : ''
    }`,
    `— ${report.failing.length === 0 ? 'ok' : 'FAIL'}`,
  ].join(' ');
}

/** Where reports go: `NEMESIS_REPORT_DIR`, else `test-output/nemesis` in the e2e package. */
export function reportDir(env: NodeJS.ProcessEnv = process.env): string {
  return env['NEMESIS_REPORT_DIR'] ?? join(__dirname, '..', '..', 'test-output', 'nemesis');
}

/**
 * Writes `<scenario>-seed<seed>.json`, and the whole output of the run's servers beside it
 * (`.log`); returns the report's path.
 */
export function writeReport(report: RunReport, logs: string, dir = reportDir()): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${report.scenario}-seed${report.seed}.json`);
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(path.replace(/\.json$/, '.log'), `${logs}\n`);
  return path;
}

/** A Markdown table of runs, one row each, as docs/testing.md shows it. */
export function resultTable(reports: readonly RunReport[]): string {
  const rows = reports.map((r) => {
    const c = r.counts;
    return [
      r.scenario,
      String(r.seed),
      String(c.lostWrites),
      String(c.resurrected),
      String(c.divergent),
      String(c.missedReadsAfterSettling),
      String(c.missedReadsDuringFaults),
      percent(c.failedShareDuringFaults),
      r.failing.length === 0 ? 'pass' : '**FAIL**',
    ];
  });
  const header = [
    'scenario',
    'seed',
    'lost',
    'resurrected',
    'divergent',
    'missed reads after settling',
    'missed reads during faults',
    'failed ops during faults',
    'result',
  ];
  return [header, header.map(() => '---'), ...rows]
    .map((cells) => `| ${cells.join(' | ')} |`)
    .join('\n');
}

/**
 * A Markdown table with a row per scenario and a column per seed, each cell
 * `lost/resurrected/divergent/missed reads after settling` (bold when the run failed), then
 * the range of the share of operations that failed during faults.
 */
export function scenarioTable(reports: readonly RunReport[]): string {
  const seeds = [...new Set(reports.map((r) => r.seed))].sort((a, b) => a - b);
  const scenarios = [...new Set(reports.map((r) => r.scenario))];
  const rows = scenarios.map((scenario) => {
    const mine = reports.filter((r) => r.scenario === scenario);
    const cells = seeds.map((seed) => {
      const r = mine.find((m) => m.seed === seed);
      if (!r) return '';
      const c = r.counts;
      const cell = `${c.lostWrites}/${c.resurrected}/${c.divergent}/${c.missedReadsAfterSettling}`;
      return r.failing.length === 0 ? cell : `**${cell}**`;
    });
    const shares = mine.map((r) => r.counts.failedShareDuringFaults);
    const range = `${percent(Math.min(...shares))}–${percent(Math.max(...shares))}`;
    return [scenario, ...cells, range];
  });
  const header = ['scenario', ...seeds.map((s) => `seed ${s}`), 'failed ops during faults'];
  return [header, header.map(() => '---'), ...rows]
    .map((cells) => `| ${cells.join(' | ')} |`)
    .join('\n');
}

/** Writes `summary.json` and `summary.md` (the table) for a whole run of the suite. */
export function writeSummary(reports: readonly RunReport[], dir = reportDir()): string {
  mkdirSync(dir, { recursive: true });
  const table = resultTable(reports);
  const commit = reports[0]?.commit ?? 'unknown';
  writeFileSync(
    join(dir, 'summary.json'),
    `${JSON.stringify(
      reports.map((r) => ({
        scenario: r.scenario,
        seed: r.seed,
        counts: r.counts,
        failing: r.failing,
      })),
      null,
      2,
    )}\n`,
  );
  writeFileSync(
    join(dir, 'summary.md'),
    `Measured on commit ${commit}. Cells: lost/resurrected/divergent/missed reads after settling.\n\n${scenarioTable(reports)}\n\n${table}\n`,
  );
  return table;
}
