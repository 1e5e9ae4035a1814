import { nodesForKey } from '../../harness/resp';
import { applyPartition, type Partition } from '../firewall';
import { HOSTS, type Host } from '../network';
import type { ActiveFault, FaultTarget } from './active-fault';

/** Cuts the hosts of each group off from the other groups until the fault ends. */
export function startPartition(target: FaultTarget, groups: Partition): ActiveFault {
  applyPartition(target.network, groups);
  return {
    description: `partition ${groups.map((g) => g.join('+')).join(' | ')}`,
    end: () => {
      applyPartition(target.network, []);
      return Promise.resolve();
    },
  };
}

/** Cuts the key's primary, as the coordinator places it now, off from every other host. */
export async function startIsolatedPrimary(target: FaultTarget, key: string): Promise<ActiveFault> {
  const [primary] = await nodesForKey(target.cluster.coordinatorEndpoint, key);
  const host =
    primary === undefined ? undefined : target.network.hostOf(primary.split(':')[0] ?? '');
  if (!host)
    throw new Error(`the coordinator names no primary on a known host for ${key}: ${primary}`);
  const rest = HOSTS.filter((h): h is Host => h !== host);
  const active = startPartition(target, [[host], rest]);
  return { ...active, description: `isolate ${host} (primary of ${key})` };
}
