#!/usr/bin/env node
import { ExitCode, runCli } from './cli';

async function main(): Promise<void> {
  const result = await runCli(process.argv.slice(2), process.env);
  if (typeof result === 'number') {
    process.exitCode = result;
    return;
  }
  const coordinator = result;
  let stopping = false;
  const stop = (): void => {
    // A second signal means "now": do not wait for connections to finish.
    if (stopping) process.exit(ExitCode.FAILURE);
    stopping = true;
    coordinator.close().then(
      () => exitSoon(ExitCode.OK),
      (err: unknown) => {
        process.stderr.write(`kv-coordinator: ${(err as Error).message}\n`);
        exitSoon(ExitCode.FAILURE);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

/** Lets output drain and the event loop empty; forces the exit if something lingers. */
function exitSoon(code: number): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), 1000).unref();
}

main().catch((err: unknown) => {
  process.stderr.write(
    `kv-coordinator: unexpected error: ${(err as Error).stack ?? String(err)}\n`,
  );
  process.exit(ExitCode.FAILURE);
});
