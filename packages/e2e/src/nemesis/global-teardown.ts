import harnessTeardown from '../harness/global-teardown';
import { leaseFromEnv } from './global-setup';
import { leftovers, removeNetwork } from './network';
import { releaseLease } from './subnet-lease';

/**
 * Proves that nothing of the run is left: no process (the e2e teardown), no namespace and
 * no link. Leftovers are removed and fail the run.
 */
export default function globalTeardown(): void {
  const lease = leaseFromEnv();
  let failure: unknown;
  try {
    harnessTeardown();
  } catch (err) {
    failure = err;
  }
  const left = leftovers(lease.prefix);
  removeNetwork(lease.prefix);
  releaseLease(lease);
  if (left.length > 0)
    throw new Error(`the nemesis suite left behind (now removed): ${left.join(', ')}`);
  if (failure) throw failure;
  process.stdout.write(`nemesis: no namespace or link named ${lease.prefix}* is left\n`);
}
