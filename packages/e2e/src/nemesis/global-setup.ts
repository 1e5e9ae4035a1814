import harnessSetup from '../harness/global-setup';
import { pidFile, readPidRecords, survivors } from '../harness/pid-registry';
import { libfaketimePath } from './faults/clock-skew';
import { removeNetwork } from './network';
import { ownerAlive, readLeases, releaseLease, takeLease, type SubnetLease } from './subnet-lease';
import { runSync } from './system-command';

/** Where the global setup hands the run's lease to the tests and the teardown. */
export const LEASE_ENV = 'NEMESIS_LEASE';

export function leaseFromEnv(env: NodeJS.ProcessEnv = process.env): SubnetLease {
  const text = env[LEASE_ENV];
  if (!text) throw new Error(`${LEASE_ENV} is not set: run the suite with jest.nemesis.config.cjs`);
  return JSON.parse(text) as SubnetLease;
}

function requirements(): string[] {
  const missing: string[] = [];
  if (process.getuid?.() !== 0)
    missing.push('root (network namespaces and iptables): run it as root, as .ci/run does');
  for (const [command, pkg] of [
    ['ip', 'iproute2'],
    ['iptables-restore', 'iptables'],
  ] as const) {
    if (!runSync('sh', ['-c', `command -v ${command}`], { allowFailure: true }).ok)
      missing.push(`${command} (apt-get install -y ${pkg})`);
  }
  try {
    libfaketimePath();
  } catch (err) {
    missing.push((err as Error).message);
  }
  return missing;
}

/** Removes what runs whose process is gone left behind (a run killed with SIGKILL, say). */
function sweepAbandoned(): void {
  for (const lease of readLeases().filter((l) => !ownerAlive(l))) {
    removeNetwork(lease.prefix);
    releaseLease(lease);
  }
}

/**
 * SIGKILLs what the run started and removes its network: on SIGINT, SIGTERM or SIGHUP,
 * where jest would not run its teardown.
 */
function cleanUpNow(lease: SubnetLease): void {
  for (const record of survivors(readPidRecords(pidFile()))) {
    try {
      process.kill(record.pid, 'SIGKILL');
    } catch {
      // Gone in the meantime.
    }
  }
  removeNetwork(lease.prefix);
  releaseLease(lease);
}

/**
 * The nemesis suite's global setup: the e2e pid file, a check that it runs as root with
 * iproute2, iptables and libfaketime, a sweep of what dead runs left, and the lease of
 * this run's subnet and name prefix.
 */
export default function globalSetup(): void {
  harnessSetup();
  const missing = requirements();
  if (missing.length > 0)
    throw new Error(`the nemesis suite needs:\n${missing.map((m) => `  - ${m}`).join('\n')}`);
  sweepAbandoned();
  const lease = takeLease();
  process.env[LEASE_ENV] = JSON.stringify(lease);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      process.stderr.write(
        `\nnemesis: ${signal}: stopping processes, removing ${lease.prefix}-*\n`,
      );
      cleanUpNow(lease);
      process.exit(130);
    });
  }
}
