import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTimeOf } from '../harness/pid-registry';
import { runSync } from './system-command';

/**
 * Which /24 of 198.18.0.0/15 (set aside for network test beds, RFC 2544) a run uses, and
 * the prefix of its namespace and interface names. Runs on the same machine, e.g. of
 * several engineers, each take a lease: a file created exclusively, naming its owner.
 */
export interface SubnetLease {
  /** Namespaces are `<prefix>-<host>`; the test process's interface is `<prefix>`. */
  readonly prefix: string;
  /** The first three octets, e.g. `198.18.7`. */
  readonly subnet: string;
  readonly pid: number;
  /** `ps` start time of the owner, to tell it from a later process with its pid. */
  readonly started: string;
}

/** Where leases are kept (tmpfs: gone after a reboot, like the namespaces). */
export const LEASE_DIR = '/run/kv-nemesis';

const SUBNETS = 512;

function subnetAt(index: number): string {
  return `198.${18 + Math.floor(index / 256)}.${index % 256}`;
}

function leaseFile(subnet: string): string {
  return join(LEASE_DIR, `${subnet}.json`);
}

/** Every lease on this machine. */
export function readLeases(): SubnetLease[] {
  let names: string[];
  try {
    names = readdirSync(LEASE_DIR);
  } catch {
    return [];
  }
  const leases: SubnetLease[] = [];
  for (const name of names.filter((n) => n.endsWith('.json'))) {
    try {
      leases.push(JSON.parse(readFileSync(join(LEASE_DIR, name), 'utf8')) as SubnetLease);
    } catch {
      // Being written, or already removed.
    }
  }
  return leases;
}

/** True while the process that took the lease runs. */
export function ownerAlive(lease: SubnetLease): boolean {
  return lease.started !== '' && startTimeOf(lease.pid) === lease.started;
}

/** Subnets the test machine itself already uses (an address or a route in them). */
function subnetsInUse(): string {
  return [
    runSync('ip', ['-4', '-o', 'addr', 'show'], { allowFailure: true }).stdout,
    runSync('ip', ['-4', 'route', 'show', 'table', 'all'], { allowFailure: true }).stdout,
  ].join('\n');
}

/**
 * Takes a free subnet for this process: the first, from a pid-dependent start, that no
 * lease holds and the machine does not use.
 */
export function takeLease(pid = process.pid): SubnetLease {
  mkdirSync(LEASE_DIR, { recursive: true });
  const used = subnetsInUse();
  for (let i = 0; i < SUBNETS; i++) {
    const subnet = subnetAt((pid + i) % SUBNETS);
    if (used.includes(`${subnet}.`)) continue;
    const lease: SubnetLease = { prefix: `kvn${pid}`, subnet, pid, started: startTimeOf(pid) };
    try {
      writeFileSync(leaseFile(subnet), JSON.stringify(lease), { flag: 'wx' });
      return lease;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  throw new Error(`no free /24 left in 198.18.0.0/15 (leases in ${LEASE_DIR})`);
}

export function releaseLease(lease: SubnetLease): void {
  rmSync(leaseFile(lease.subnet), { force: true });
}
