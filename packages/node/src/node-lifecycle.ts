import {
  describeServerTls,
  type ConnectionPool,
  type HttpEndpoint,
  type RespServer,
} from '@kv/protocol';
import { Phase, type RingEpoch } from '@kv/ring';
import type { Logger } from 'winston';
import type { ClockFence } from './clock-fence';
import type { CoordinatorLink } from './coordinator-link';
import type { NodeMetrics } from './metrics';
import type { Rebalancer } from './rebalancer';
import type { ResolvedNodeOptions } from './resolve-node-options';
import type { NodeStorage } from './storage';
import type { Store } from './store';

/** The parts of a node {@link NodeLifecycle} starts and stops. */
export interface NodeLifecycleParts {
  /** This node's id, its advertised `host:port`. */
  readonly id: string;
  /** The bound address. */
  readonly host: string;
  readonly port: number;
  readonly options: ResolvedNodeOptions;
  readonly storage: NodeStorage;
  readonly server: RespServer;
  readonly metricsEndpoint: HttpEndpoint | undefined;
  readonly store: Store;
  readonly peers: ConnectionPool;
  readonly syncPeers: ConnectionPool;
  readonly fence: ClockFence;
  readonly link: CoordinatorLink;
  readonly rebalancer: Rebalancer;
  readonly metrics: NodeMetrics;
  readonly logger: Logger;
  /** The current placement, once the node has one. */
  placement(): RingEpoch | undefined;
}

/**
 * Starts a node's parts and stops them, each in one explicit order: the parts are all
 * created (by the node) before `start`.
 */
export class NodeLifecycle {
  private purgeTimer: NodeJS.Timeout | undefined;

  constructor(private readonly parts: NodeLifecycleParts) {}

  /** Start order: purging, then the coordinator link (which brings rings, then data). */
  async start(): Promise<void> {
    const { options, logger, store, fence, metricsEndpoint } = this.parts;
    this.purgeTimer = setInterval(() => {
      const purged = store.purge(options.tombstoneGraceMs);
      if (purged > 0) logger.debug(`Purged ${purged} tombstone(s) and expired record(s)`);
    }, options.purgeIntervalMs);
    this.purgeTimer.unref();
    logger.info(
      `Started on ${this.parts.host}:${this.parts.port}${describeServerTls(options.tls)}`,
    );
    if (this.parts.storage.description) logger.info(this.parts.storage.description);
    if (options.maxMemory === 0)
      logger.warn(
        'No --max-memory set: this node takes writes until the process runs out of memory; set one (e.g. --max-memory 1gb) to answer writes with -OOM past it',
      );
    if (metricsEndpoint) {
      this.parts.metrics.collectProcessMetrics();
      logger.info(`Metrics on http://${metricsEndpoint.host}:${metricsEndpoint.port}/metrics`);
    }
    // The clock is measured (against the coordinator, the only member known yet) before the
    // node joins: it stamps no write before it knows its clock is in bounds.
    await fence.start();
    // Records kept from an earlier run may lack the writes made while this node was down:
    // it answers no read alone until a sync round with the other replicas has completed.
    if (store.size > 0) fence.gate.markStale();
    await this.parts.link.start();
  }

  /** Stop order: the reverse of start, after handing data off when leaving. */
  async stop(leave: boolean): Promise<void> {
    const { options, logger } = this.parts;
    clearInterval(this.purgeTimer);
    if (leave) await this.handOffBeforeLeaving();
    this.parts.rebalancer.close();
    this.parts.fence.stop();
    await this.parts.server.close(options.shutdownGraceMs);
    await this.parts.link.stop(leave);
    this.parts.peers.close();
    this.parts.syncPeers.close();
    await this.parts.storage.close();
    await this.parts.metricsEndpoint?.close();
    logger.info('Stopped');
  }

  /** A graceful leave: out of the target ring, data handed to the next owners, then out. */
  private async handOffBeforeLeaving(): Promise<void> {
    const { id, options, logger, link, rebalancer } = this.parts;
    const placement = this.parts.placement();
    if (placement?.phaseOf(id) !== Phase.SERVING || placement.read.size <= 1) return;
    try {
      await link.leaving();
    } catch (err) {
      logger.warn(
        `Could not announce the leave to the coordinator (${(err as Error).message}): leaving without handing off; the other replicas keep the data`,
      );
      return;
    }
    logger.info('Leaving: handing data to the next owners');
    const timeoutMs = options.leaveTimeoutMs;
    if (await rebalancer.leave(timeoutMs)) logger.info('Hand-off complete');
    else
      logger.warn(
        `Hand-off incomplete after ${timeoutMs} ms (${this.parts.metrics.gauges.handoffPending.value} record(s) unconfirmed); leaving anyway`,
      );
  }
}
