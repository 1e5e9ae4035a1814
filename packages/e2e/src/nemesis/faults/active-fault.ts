import type { Cluster, ClusterNode } from '../../harness/cluster';
import type { Host, NamespaceNetwork } from '../network';

/** What a fault acts on. */
export interface FaultTarget {
  readonly network: NamespaceNetwork;
  readonly cluster: Cluster;
  /** The node running on a host. */
  node(host: Host): ClusterNode;
}

/** A fault in force, and how to end it. */
export interface ActiveFault {
  /** What it did, with the hosts it resolved (e.g. which node was a key's primary). */
  readonly description: string;
  end(): Promise<void>;
}
