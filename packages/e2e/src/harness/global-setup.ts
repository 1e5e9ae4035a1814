import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PID_FILE_ENV } from './pid-registry';

/** Names a fresh pid file for this run; every process a test starts is appended to it. */
export default function globalSetup(): void {
  const file = join(tmpdir(), `kv-e2e-pids-${process.pid}-${Date.now()}.tsv`);
  writeFileSync(file, '');
  process.env[PID_FILE_ENV] = file;
}
