import type { Membership } from './membership';

/** The figures `INFO` reports. */
export interface CoordinatorInfo {
  readonly version: string;
  readonly epoch: number;
  readonly members: number;
  readonly membersUp: number;
  readonly membersProbation: number;
  readonly membersJoining: number;
  readonly membersLeaving: number;
  readonly deadRemembered: number;
  readonly uptimeSeconds: number;
  readonly connectedClients: number;
  readonly commandsProcessed: number;
  /** Wrong passwords and member proofs that did not verify. */
  readonly authFailures: number;
  readonly heartbeatIntervalMs: number;
  readonly failureTimeoutMs: number;
  readonly replicationFactor: number;
  readonly vnodesPerWeight: number;
  /** Absolute path, or `undefined` when membership is not persisted (reported empty). */
  readonly dataDir: string | undefined;
  readonly tcpPort: number;
  /** `leader`, or `follower` among coordinators sharing etcd. */
  readonly role: string;
  /** The leader's address as last seen (this coordinator's own when it leads alone); empty when none. */
  readonly leader: string | undefined;
  /** `file`, or the `etcd://` address the membership lives in. */
  readonly store: string;
  /** Whether the last round with the store succeeded (always for the file). */
  readonly storeReachable: boolean;
}

/** Renders the `INFO` reply: Redis style `key:value` lines under `# Coordinator`. */
export function renderInfo(info: CoordinatorInfo): string {
  const fields: [string, string | number][] = [
    ['version', info.version],
    ['epoch', info.epoch],
    ['members', info.members],
    ['members_up', info.membersUp],
    ['members_probation', info.membersProbation],
    ['members_joining', info.membersJoining],
    ['members_leaving', info.membersLeaving],
    ['dead_remembered', info.deadRemembered],
    ['uptime_in_seconds', info.uptimeSeconds],
    ['tcp_port', info.tcpPort],
    ['connected_clients', info.connectedClients],
    ['commands_processed', info.commandsProcessed],
    ['acl_access_denied_auth', info.authFailures],
    ['heartbeat_interval_ms', info.heartbeatIntervalMs],
    ['failure_timeout_ms', info.failureTimeoutMs],
    ['replication_factor', info.replicationFactor],
    ['vnodes_per_weight', info.vnodesPerWeight],
    ['data_dir', info.dataDir ?? ''],
    ['role', info.role],
    ['leader', info.leader ?? ''],
    ['store', info.store],
    ['store_reachable', info.storeReachable ? 1 : 0],
  ];
  return `# Coordinator\r\n${fields.map(([key, value]) => `${key}:${value}\r\n`).join('')}`;
}

/** The figures of INFO that describe the membership and its ring. */
export function membershipFigures(
  membership: Membership,
): Pick<
  CoordinatorInfo,
  | 'epoch'
  | 'members'
  | 'membersUp'
  | 'membersProbation'
  | 'membersJoining'
  | 'membersLeaving'
  | 'deadRemembered'
  | 'replicationFactor'
  | 'vnodesPerWeight'
> {
  const counts = membership.counts();
  const { options } = membership.ring;
  return {
    epoch: membership.epoch,
    members: counts.members,
    membersUp: counts.up,
    membersProbation: counts.probation,
    membersJoining: counts.joining,
    membersLeaving: counts.leaving,
    deadRemembered: counts.deadRemembered,
    replicationFactor: options.replicationFactor,
    vnodesPerWeight: options.vnodesPerWeight,
  };
}
