import { childEnv } from '../harness/child-env';
import type { ClusterPlacement, ClusterRole } from '../harness/cluster';
import { HOSTS, type Host, type NamespaceNetwork } from './network';

/** Coordinator port; node N listens on 5000 + N, so ports tell nodes apart in logs too. */
const COORDINATOR_PORT = 5000;

/** The host a cluster server runs on: `coord`, or `n1`.. for the nodes in start order. */
export function hostOfRole(role: ClusterRole): Host {
  const host = role === 'coordinator' ? 'coord' : `n${role + 1}`;
  if (!(HOSTS as readonly string[]).includes(host))
    throw new Error(`a nemesis network has no host for node ${String(role)}`);
  return host as Host;
}

/**
 * Runs each server of a cluster in its host's namespace, listening on the host's address
 * (`ip netns exec <ns> node <script> --host <address> ...`; `ip` execs, so the pid is the
 * server's own). `env` adds variables per host, e.g. libfaketime's for a skewed clock.
 */
export function namespacePlacement(
  network: NamespaceNetwork,
  env: (host: Host) => NodeJS.ProcessEnv = () => ({}),
): ClusterPlacement {
  return {
    endpoint: (role) => {
      const host = hostOfRole(role);
      const port = role === 'coordinator' ? COORDINATOR_PORT : COORDINATOR_PORT + role + 1;
      return Promise.resolve({ host: network.address(host), port });
    },
    launch: (role, script, args) => {
      const host = hostOfRole(role);
      return {
        command: 'ip',
        args: network.execArgs(host, process.execPath, [script, ...args]),
        env: childEnv(env(host)),
      };
    },
  };
}
