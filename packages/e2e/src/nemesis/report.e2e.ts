import type { AnomalyCounts } from './anomalies';
import { resultTable, scenarioTable, summaryLine, type RunReport } from './report';
import { NEMESIS_TIMINGS } from './timings';

const CLEAN: AnomalyCounts = {
  lostWrites: 0,
  resurrected: 0,
  phantoms: 0,
  divergent: 0,
  missedReadsAfterSettling: 0,
  missedReadsDuringFaults: 0,
  missedReadsBetweenFaults: 0,
  operationsDuringFaults: 100,
  failedShareDuringFaults: 0.05,
  operationsOutsideFaults: 50,
  failedShareOutsideFaults: 0,
};

function report(scenario: string, seed: number, counts: Partial<AnomalyCounts> = {}): RunReport {
  const all = { ...CLEAN, ...counts };
  return {
    scenario,
    seed,
    commit: 'abc',
    timings: NEMESIS_TIMINGS,
    schedule: [],
    phases: { faultsStart: 5000, faultsEnd: 35_000, settledAt: 36_000, quietEnd: 39_000 },
    faults: [],
    operations: { ok: 140, failed: 5, unknown: 5 },
    settle: { settled: true, ms: 1200 },
    finalSettle: { settled: true, ms: 10 },
    counts: all,
    failing: all.lostWrites > 0 ? [`${all.lostWrites} lost acknowledged write(s)`] : [],
    violations: {},
    violationCount: 0,
    divergent: [],
    durationMs: 40_000,
  };
}

describe('nemesis reports (pure)', () => {
  it('sum a run up in one line', () => {
    expect(summaryLine(report('pause', 3, { lostWrites: 2, missedReadsDuringFaults: 4 }))).toBe(
      'nemesis pause seed 3: lost 2, resurrected 0, divergent 0, missed reads after settling 0 (during faults 4, between 0), phantoms 0, failed ops during faults 5.0% of 100 (outside 0.0% of 50), settled in 1.2 s — FAIL',
    );
  });

  it('tabulate scenarios by seed, failed runs in bold', () => {
    const reports = [
      report('pause', 1),
      report('pause', 2, { lostWrites: 3, failedShareDuringFaults: 0.1 }),
      report('kill-restart', 1),
    ];
    expect(scenarioTable(reports).split('\n')).toEqual([
      '| scenario | seed 1 | seed 2 | failed ops during faults |',
      '| --- | --- | --- | --- |',
      '| pause | 0/0/0/0 | **3/0/0/0** | 5.0%–10.0% |',
      '| kill-restart | 0/0/0/0 |  | 5.0%–5.0% |',
    ]);
    expect(resultTable(reports).split('\n')[3]).toBe(
      '| pause | 2 | 3 | 0 | 0 | 0 | 0 | 10.0% | **FAIL** |',
    );
  });
});
