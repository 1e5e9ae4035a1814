import { HOSTS, type Host, type NamespaceNetwork } from './network';
import { runSync } from './system-command';

/**
 * A partition: groups of hosts that cannot reach each other (a host in no group reaches
 * everyone). The test process, where the clients run, is never cut off: like Jepsen's
 * control node, it is outside the network under test.
 */
export type Partition = readonly (readonly Host[])[];

/** For each host, the hosts it must not exchange packets with under `partition`. Pure. */
export function blockedPeers(partition: Partition): Map<Host, Host[]> {
  const blocked = new Map<Host, Host[]>();
  partition.forEach((group, g) => {
    const others = partition.filter((_, o) => o !== g).flat();
    for (const host of group) blocked.set(host, [...(blocked.get(host) ?? []), ...others]);
  });
  return blocked;
}

/** The iptables-restore input that drops everything to and from `peers` (nothing if none). */
export function filterRules(addresses: readonly string[]): string {
  return [
    '*filter',
    ':INPUT ACCEPT [0:0]',
    ':FORWARD ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ...addresses.flatMap((a) => [`-A INPUT -s ${a}/32 -j DROP`, `-A OUTPUT -d ${a}/32 -j DROP`]),
    'COMMIT',
    '',
  ].join('\n');
}

/**
 * Makes `partition` the only one in force: each host's namespace gets exactly the DROP
 * rules it calls for (iptables-restore replaces the filter table whole), so an empty
 * partition heals everything. Established connections stall rather than reset, as when a
 * switch fails.
 */
export function applyPartition(network: NamespaceNetwork, partition: Partition): void {
  const blocked = blockedPeers(partition);
  for (const host of HOSTS) {
    const peers = (blocked.get(host) ?? []).map((peer) => network.address(peer));
    runSync('ip', network.execArgs(host, 'iptables-restore', []), { input: filterRules(peers) });
  }
}
