import { closeClients } from './clients';
import { drainStarted, stopAll } from './process-registry';
import { currentTestFailed } from './test-state';

// Loaded into every test file (jest `setupFilesAfterEnv`): nothing a test started outlives
// it, whether it passed or failed, and a failed test prints the output of its processes.
// Processes started in a `beforeAll` live until the file's last test.

afterEach(async () => {
  const failed = currentTestFailed();
  await closeClients();
  await stopAll('test');
  const started = drainStarted();
  if (failed && started.length > 0) {
    const tails = started.map((p) => p.tail(80)).join('\n');
    process.stderr.write(`\nOutput of the processes of the failed test:\n${tails}\n`);
  }
});

afterAll(async () => {
  await stopAll('file');
});
