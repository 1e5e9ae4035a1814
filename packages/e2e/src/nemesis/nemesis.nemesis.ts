import { leaseFromEnv } from './global-setup';
import { planFromEnv } from './plan';
import { summaryLine, writeReport, writeSummary, type RunReport } from './report';
import { runNemesis } from './run';
import { runTimeoutMs } from './timings';

const plan = planFromEnv(process.env);
const reports: RunReport[] = [];

function explain(report: RunReport, path: string): string {
  return [
    `${report.scenario} seed ${report.seed}: ${report.failing.join('; ')}`,
    `reproduce: NEMESIS_SCENARIOS=${report.scenario} NEMESIS_SEEDS=${report.seed} npm run test:nemesis`,
    `report: ${path}`,
    'schedule:',
    ...report.schedule.map((line) => `  ${line}`),
    ...Object.values(report.violations).flat().slice(0, 3),
    ...(report.violationCount > 3
      ? [`... ${report.violationCount - 3} more, quoted in the report`]
      : []),
  ].join('\n');
}

describe(`nemesis (${plan.profile} profile, ${plan.runs.length} runs)`, () => {
  afterAll(() => {
    if (reports.length === 0) return;
    const table = writeSummary(reports);
    process.stdout.write(
      `\nnemesis results (commit ${reports[0]?.commit ?? 'unknown'}):\n${table}\n`,
    );
  });

  it.each(plan.runs)(
    '$scenario seed $seed: no lost write, resurrection or divergence, every read after settling sees the last acknowledged write',
    async ({ scenario, seed }) => {
      const { report, logs } = await runNemesis(scenario, seed, leaseFromEnv());
      reports.push(report);
      const path = writeReport(report, logs);
      process.stdout.write(`${summaryLine(report)}\n`);
      expect(report.failing.length === 0 ? 'no anomaly' : explain(report, path)).toBe('no anomaly');
    },
    runTimeoutMs(),
  );
});
