import type { AccessControl, RespServer } from '@kv/protocol';
import { type RingEpoch, token } from '@kv/ring';
import type { Logger } from 'winston';
import type { ClockFence } from './clock-fence';
import type { CommandContext } from './command-context';
import type { CoordinatorLink } from './coordinator-link';
import { unavailable } from './errors';
import type { HintStore } from './hints';
import { renderInfo } from './info';
import { nodeInfoSections, type NodeInfoSources } from './node-info';
import { ownsAlone } from './owns-alone';
import type { PeerClient } from './peer-client';
import type { QuorumOperations } from './quorum-operations';
import type { Rebalancer } from './rebalancer';
import type { ResolvedNodeOptions } from './resolve-node-options';
import { ScanCursors } from './scan';
import type { CoOwnedDigests } from './sync-source';
import type { UnsyncedRanges } from './unsynced-ranges';

/** The parts of a node its commands reach, and INFO and the metrics report on. */
export interface NodeContextParts extends Pick<
  NodeInfoSources,
  'id' | 'port' | 'startedAt' | 'options' | 'store' | 'memory' | 'metrics'
> {
  readonly requests: QuorumOperations;
  readonly hints: HintStore;
  readonly replicationPeers: PeerClient;
  readonly unsynced: UnsyncedRanges;
  readonly digests: CoOwnedDigests;
  readonly fence: ClockFence;
  readonly access: AccessControl;
  readonly server: RespServer;
  readonly link: CoordinatorLink;
  readonly rebalancer: Rebalancer;
  readonly logger: Logger;
  /** The current placement, once the node has one. */
  placement(): RingEpoch | undefined;
  /** Starts a graceful leave; false if one already started. */
  decommission(): boolean;
}

/** What the node's command handlers run with: its parts, read when a command asks. */
export function createNodeContext(parts: NodeContextParts): CommandContext {
  const { id, options, store, fence, unsynced, replicationPeers, hints, metrics, logger } = parts;
  const ringView = ringViewOf(parts.placement);
  return {
    store,
    quorum: parts.requests,
    memory: parts.memory,
    maxKeyBytes: options.maxKeyBytes,
    now: options.wallClock ?? Date.now,
    beforeReplicaWrite: (records) => fence.gate.beforeReplicaWrite(records),
    answersAlone: (key, askerEpoch) => {
      // A node that does not own the key in its own ring (it lost the range, has not
      // learnt that it gained it, or is handing it to another owner) may hold an old copy
      // or none: it is not read alone. Nor is one whose ring is older than the asker's:
      // writes made at the newer epoch went to the newer ring's owners, maybe not here.
      const t = token(key);
      const placement = parts.placement();
      const alone =
        fence.gate.readsAlone &&
        placement !== undefined &&
        (askerEpoch === undefined || placement.epoch >= askerEpoch) &&
        ownsAlone(placement, id, t) &&
        !(unsynced.any && unsynced.previousOwners(t));
      if (!alone) metrics.counters.staleAnswers.inc();
      return alone;
    },
    heardFrom: (peer) => replicationPeers.heardFrom(peer),
    missedWrites: (remote) => {
      metrics.counters.missedWriteNotices.inc();
      logger.info(
        `A member at ${remote} could not send this node records it should hold (its queue to this node was full, or this node was unreachable): reads ask another replica too until a sync round with every member`,
      );
      fence.gate.markStale();
    },
    deliverHints: (replica) =>
      hints.deliverTo(replicationPeers, replica).catch((err: unknown) => {
        throw unavailable(
          `could not deliver the writes kept for ${replica}: ${err instanceof Error ? err.message : String(err)}`,
        );
      }),
    info: (sections) => renderInfo(infoSections(parts), sections),
    selfId: id,
    placement: () => parts.placement(),
    digests: parts.digests,
    scans: new ScanCursors(store),
    access: parts.access,
    decommission: () => parts.decommission(),
    ring: () => ringView(),
    config: () => configValues(options),
  };
}

/** Has the node's metrics read their gauges from its parts, when scraped. */
export function readNodeMetrics(parts: NodeContextParts): void {
  const { store, server } = parts;
  parts.metrics.readFrom({
    keys: () => store.size - store.tombstones,
    tombstones: () => store.tombstones,
    dataBytes: () => store.bytes,
    ringEpoch: () => parts.placement()?.epoch ?? -1,
    ringMembers: () => parts.placement()?.read.size ?? 0,
    connectedClients: () => server.connectionCount,
    requestsInFlight: () => server.inFlight,
    heldConnections: () => server.heldConnections,
    logPendingWrites: () => store.backlog.writes,
    logPendingBytes: () => store.backlog.bytes,
    commitsFailing: () => (store.commitsFailing ? 1 : 0),
  });
}

/** The rings as RING answers them, serialised once per epoch. */
function ringViewOf(
  placementOf: () => RingEpoch | undefined,
): () => ReturnType<CommandContext['ring']> {
  let ringJson: { epoch: number; json: string; target?: string } | undefined;
  return () => {
    const placement = placementOf();
    if (placement === undefined) return undefined;
    if (ringJson?.epoch !== placement.epoch) {
      ringJson = {
        epoch: placement.epoch,
        json: JSON.stringify(placement.read.toJSON()),
        ...(!placement.settled && { target: JSON.stringify(placement.target.toJSON()) }),
      };
    }
    return ringJson;
  };
}

function configValues(options: ResolvedNodeOptions): Record<string, string> {
  const { maxValueBytes, maxKeyBytes, writeQuorum, readQuorum, maxInFlight, maxReplicaQueue } =
    options;
  return {
    save: '',
    appendonly: 'no',
    databases: '1',
    'proto-max-bulk-len': String(maxValueBytes),
    'kv-max-key-bytes': String(maxKeyBytes),
    'kv-write-quorum': String(writeQuorum),
    'kv-read-quorum': String(readQuorum),
    'kv-max-in-flight': String(maxInFlight),
    'kv-max-replica-queue': String(maxReplicaQueue),
  };
}

function infoSections(parts: NodeContextParts): ReturnType<typeof nodeInfoSections> {
  return nodeInfoSections({
    id: parts.id,
    port: parts.port,
    startedAt: parts.startedAt,
    options: parts.options,
    store: parts.store,
    memory: parts.memory,
    placement: parts.placement(),
    connectedClients: parts.server.connectionCount,
    requestsInFlight: parts.server.inFlight,
    heldConnections: parts.server.heldConnections,
    coordinatorConnected: parts.link.connected,
    coordinator: parts.link.address,
    metrics: parts.metrics,
    phase: parts.rebalancer.phase,
  });
}
