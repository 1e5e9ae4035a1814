import { rmSync } from 'node:fs';
import { pidFile, readPidRecords, survivors } from './pid-registry';

/**
 * Proves that no process the suite started outlived it: every pid in the pid file must be
 * gone (`process.kill(pid, 0)` fails with ESRCH) or belong to an unrelated, later process.
 * Survivors are SIGKILLed and fail the run.
 */
export default function globalTeardown(): void {
  const file = pidFile();
  const records = readPidRecords(file);
  const stray = survivors(records);
  for (const record of stray) {
    try {
      process.kill(record.pid, 'SIGKILL');
    } catch {
      // Gone in the meantime.
    }
  }
  if (stray.length > 0) {
    throw new Error(
      `${stray.length} of the ${records.length} processes the e2e suite started were still running ` +
        `after it (now SIGKILLed; pid file ${file}):\n` +
        stray.map((r) => `  pid ${r.pid}: ${r.label}`).join('\n'),
    );
  }
  rmSync(file, { force: true });
  process.stdout.write(`\ne2e: all ${records.length} processes the suite started have exited\n`);
}
