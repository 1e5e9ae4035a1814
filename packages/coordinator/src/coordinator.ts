import {
  AccessControl,
  connectTls,
  handshakeFor,
  createHttpEndpoint,
  createRespServer,
  type HttpEndpoint,
  type UserTable,
  describeServerTls,
  handshakeFailureLevel,
  listenTcp,
  listenTls,
  type ServerTls,
  type RespServer,
  type ServerConnection,
  type DataDirLock,
} from '@kv/protocol';
import type { Ring } from '@kv/ring';
import type { Logger } from 'winston';
import { describeChange } from './change-log';
import { HostSpread } from './host-spread';
import { ClusterViewBuilder } from './cluster-view';
import { CoordinatorMetrics } from './coordinator-metrics';
import { dashboardRoutes } from './dashboard';
import { createCoordinatorRouter, type CommandContext } from './coordinator-commands';
import type { CoordinatorConfig } from './config';
import { createFailureDetector, openCoordinator, type CoordinatorParts } from './coordinator-setup';
import { EtcdCoordination } from './etcd-coordination';
import { ListenError } from './errors';
import type { FailureDetector } from './failure-detector';
import { membershipFigures, renderInfo } from './info';
import { Role } from './leader-election';
import { LeaderForwarder } from './leader-forwarder';
import type { MemberStatus } from './member-state';
import type { Membership, MembershipChange } from './membership';
import { NodeProbe } from './node-probe';
import { RebalanceProgress } from './rebalance-progress';
import type { StateStore } from './state-store';
import { version } from './version';

/** How long {@link Coordinator.close} lets open connections finish before cutting them. */
const CLOSE_GRACE_MS = 2000;

import { COORDINATOR_LIMITS, type CoordinatorOptions } from './coordinator-options';

export { COORDINATOR_LIMITS, type CoordinatorOptions } from './coordinator-options';

/**
 * A running coordinator: the membership registry, its failure detector, the optional state
 * file and the RESP listener. Start one with {@link startCoordinator}.
 */
export class Coordinator {
  /** The settings it runs with (ring options as given, see {@link Coordinator.ring}). */
  readonly config: CoordinatorConfig;
  /** The TLS files read when TLS is on (`tls !== undefined`), else undefined. */
  readonly tls: ServerTls | undefined;
  private readonly logger: Logger;
  private readonly membership: Membership;
  private readonly store: StateStore | undefined;
  private readonly coordination: EtcdCoordination | undefined;
  private readonly forwarder: LeaderForwarder;
  private readonly lock: DataDirLock | undefined;
  private readonly now: () => number;
  private readonly server: RespServer;
  private readonly detector: FailureDetector;
  private readonly hostSpread = new HostSpread();
  /** This coordinator's metrics registry. */
  readonly metrics: CoordinatorMetrics;
  private readonly probe: NodeProbe;
  private readonly view: ClusterViewBuilder;
  private http: HttpEndpoint | undefined;
  private readonly users: UserTable | undefined;
  private boundPort = 0;
  private startedAt = 0;
  private commandsProcessed = 0;
  private authFailures = 0;
  private closing: Promise<void> | undefined;

  private constructor(parts: CoordinatorParts) {
    this.config = parts.config;
    this.tls = parts.tls;
    this.users = parts.users;
    this.logger = parts.logger;
    this.membership = parts.membership;
    this.store = parts.store;
    this.lock = parts.lock;
    this.now = parts.now;
    const access = new AccessControl({
      clusterSecret: parts.clusterSecret,
      users: parts.users,
      onFailure: (kind, connection) => {
        this.authFailures++;
        this.logger.warn(
          `Refused ${kind === 'member' ? 'a member proof' : 'a password'} from ${connection.remoteAddress}`,
        );
      },
    });
    // The dashboard reads the nodes' INFO as a member, over TLS when the cluster speaks it;
    // a follower reaches the leader the same way.
    const dial = {
      ...(this.tls && { connect: connectTls(this.tls) }),
      handshake: handshakeFor({ clusterSecret: parts.clusterSecret }),
    };
    this.probe = new NodeProbe(() => performance.now(), undefined, dial);
    this.forwarder = new LeaderForwarder({
      ...dial,
      timeoutMs: Math.max(this.config.heartbeatIntervalMs, 1000),
    });
    this.detector = createFailureDetector(this.membership, this.config, this.logger, {
      mayDecide: () => this.coordination?.leads() ?? true,
      onChange: (change) => void this.commit(change).catch(() => undefined),
    });
    this.coordination =
      parts.etcd &&
      new EtcdCoordination({
        store: parts.etcd,
        membership: this.membership,
        detector: this.detector,
        forwarder: this.forwarder,
        candidate: () => this.config.advertise ?? `${this.config.host}:${this.boundPort}`,
        ttlSeconds: this.config.leaseTtlSeconds,
        now: this.now,
        logger: this.logger,
      });
    const context: CommandContext = {
      membership: this.membership,
      commit: (change) => this.commit(change),
      info: () => this.info(),
      access,
      leadership: this.coordination,
    };
    const router = createCoordinatorRouter([access.hook]);
    this.server = createRespServer({
      handler: (args, connection) => {
        this.commandsProcessed++;
        return router.dispatch(args, context, connection);
      },
      limits: { ...COORDINATOR_LIMITS, ...parts.limits },
      idleTimeoutMs: this.config.idleTimeoutMs,
      requestTimeoutMs: this.config.requestTimeoutMs,
      maxConnections: this.config.maxConnections,
      listen: this.tls
        ? listenTls({
            ...this.tls,
            onHandshakeError: (err, remote) =>
              this.logger.log(
                handshakeFailureLevel(err),
                `TLS handshake with ${remote} failed: ${err.message}`,
              ),
          })
        : listenTcp,
      onError: (err, connection) => this.onHandlerError(err, connection),
      onProtocolError: (err, connection) =>
        this.logger.debug(`Closed ${connection.remoteAddress}: ${err.message}`),
    });
    this.metrics = new CoordinatorMetrics({
      epoch: () => this.membership.epoch,
      members: () => this.membership.list(true),
      commands: () => this.commandsProcessed,
      leading: () => this.role === Role.LEADER,
    });
    this.view = new ClusterViewBuilder({
      epoch: () => this.membership.epoch,
      target: () => this.membership.target,
      members: () => this.membership.list(true),
      failureTimeoutMs: this.config.failureTimeoutMs,
      probe: this.probe,
      progress: new RebalanceProgress(() => performance.now()),
    });
  }

  /**
   * Validates the options, loads the state file if there is one, listens, and starts
   * failure detection.
   *
   * @throws {@link ConfigError} for an invalid option, {@link StateFileError} for a state
   *   file that cannot be loaded, {@link StateWriteError} if the data directory is not
   *   writable, {@link ListenError} if the address cannot be bound
   */
  static async start(options: CoordinatorOptions = {}): Promise<Coordinator> {
    return openCoordinator(options, async (parts) => {
      const coordinator = new Coordinator(parts);
      await coordinator.listen();
      return coordinator;
    });
  }

  /** The address it listens on, as configured. */
  get host(): string {
    return this.config.host;
  }

  /** The port it listens on (the one bound, when 0 was asked for). */
  get port(): number {
    return this.boundPort;
  }

  /** `leader`, or `follower` among coordinators sharing etcd while another leads. */
  get role(): Role {
    return this.coordination?.role ?? Role.LEADER;
  }

  /** The current ring epoch. */
  get epoch(): number {
    return this.membership.epoch;
  }

  /** The current ring. Its options are the persisted ones when a state file was loaded. */
  get ring(): Ring {
    return this.membership.ring;
  }

  /** Absolute path of the state file, or `undefined` without a data directory. */
  get stateFile(): string | undefined {
    return this.store?.file;
  }

  /** The port of `/metrics` and the dashboard; undefined when they are not served. */
  get metricsPort(): number | undefined {
    return this.http?.port;
  }

  /** The members as `LIST_NODES` reports them; with `includeDead`, as `LIST_NODES ALL`. */
  members(includeDead = false): MemberStatus[] {
    return this.membership.list(includeDead);
  }

  /**
   * Stops failure detection, stops accepting connections, lets open ones finish what they
   * sent (cutting them after 2 s), then saves the membership. Calling it again returns the
   * same promise.
   *
   * @throws {@link StateWriteError} if the final save fails (the listener is closed anyway)
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async listen(): Promise<void> {
    const { host, port } = this.config;
    try {
      const address = await this.server.listen(port, host);
      this.boundPort = address.port;
    } catch (err) {
      throw new ListenError(`${host}:${port}`, (err as NodeJS.ErrnoException).code, {
        cause: err,
      });
    }
    this.startedAt = this.now();
    if (this.config.metricsPort !== undefined) await this.serveHttp(this.config.metricsPort);
    if (!this.coordination) this.detector.start();
    else
      await this.coordination.start().catch(async (err: unknown) => {
        await this.http?.close();
        await this.server.close(0);
        throw err;
      });
    this.logger.info(`Started on ${host}:${this.boundPort}${describeServerTls(this.tls)}`);
    if (this.http)
      this.logger.info(
        `Dashboard on ${this.http.scheme}://${host}:${this.http.port}/ (metrics at /metrics)${this.users ? ', for kv users' : ''}`,
      );
  }

  /**
   * `/metrics` and the dashboard, on the coordinator's own interface (so protected mode
   * binds it as it binds the RESP port), over TLS when the coordinator speaks it, for the
   * users of the users file when there is one.
   */
  private async serveHttp(port: number): Promise<void> {
    const { host } = this.config;
    try {
      this.http = await createHttpEndpoint(port, host, {
        metrics: this.metrics.registry,
        routes: dashboardRoutes(this.view),
        onError: (err) => this.logger.error(`Serving HTTP failed: ${describeError(err, true)}`),
        ...(this.tls && {
          tls: {
            ...this.tls,
            onHandshakeError: (err, remote) =>
              this.logger.log(
                handshakeFailureLevel(err),
                `TLS handshake with ${remote} on the HTTP port failed: ${err.message}`,
              ),
          },
        }),
        users: this.users,
        onAuthFailure: (remote, user, reason) => {
          this.authFailures++;
          this.logger.warn(
            `Refused an HTTP request from ${remote}${user === undefined ? '' : ` as ${user}`}: ${reason}`,
          );
        },
      });
    } catch (err) {
      await this.server.close(0);
      throw new ListenError(`${host}:${port}`, (err as NodeJS.ErrnoException).code, {
        cause: err,
      });
    }
    this.metrics.collectProcessMetrics();
  }

  private async shutdown(): Promise<void> {
    this.logger.info('Shutting down');
    await this.coordination?.close();
    this.forwarder.close();
    this.detector.stop();
    await this.http?.close();
    this.probe.close();
    await this.server.close(CLOSE_GRACE_MS);
    if (this.store) {
      try {
        await this.store.save(this.membership.toState());
      } catch (err) {
        this.logger.error(describeError(err));
        throw err;
      } finally {
        this.lock?.release();
      }
    }
    this.logger.info('Stopped');
  }

  private async commit(change: MembershipChange): Promise<void> {
    if (this.coordination) return this.coordination.commit(change, this.membership.toState());
    for (const { level, message } of describeChange(change)) this.logger.log(level, message);
    const spread = this.hostSpread.check(this.membership.target);
    if (spread) this.logger.log(spread.level, spread.message);
    if (!this.store) return;
    try {
      await this.store.save(this.membership.toState());
    } catch (err) {
      this.logger.error(
        `${describeError(err)}; the change stands in memory and is saved with the next one`,
      );
    }
  }

  private info(): string {
    return renderInfo({
      version: version(),
      ...membershipFigures(this.membership),
      uptimeSeconds: Math.floor((this.now() - this.startedAt) / 1000),
      tcpPort: this.boundPort,
      connectedClients: this.server.connectionCount,
      commandsProcessed: this.commandsProcessed,
      authFailures: this.authFailures,
      heartbeatIntervalMs: this.config.heartbeatIntervalMs,
      failureTimeoutMs: this.config.failureTimeoutMs,
      dataDir: this.store?.dir,
      role: this.role,
      leader: this.coordination ? this.coordination.leader : `${this.host}:${this.boundPort}`,
      store: this.coordination?.location ?? 'file',
      storeReachable: this.coordination?.reachable ?? true,
    });
  }

  private onHandlerError(err: unknown, connection: ServerConnection): void {
    this.logger.error(
      `Internal error serving ${connection.remoteAddress} (answered -ERR internal error): ` +
        describeError(err, true),
    );
  }
}

/**
 * Starts a coordinator: validates the options, loads `membership.json` from `dataDir` if
 * there is one, listens, and starts failure detection.
 *
 * @example
 * ```ts
 * const coordinator = await startCoordinator({ port: 0, silent: true });
 * console.log(coordinator.port, coordinator.epoch); // e.g. 40123 0
 * await coordinator.close();
 * ```
 *
 * @throws {@link ConfigError}, {@link StateFileError}, {@link StateWriteError},
 *   {@link ListenError}
 */
export function startCoordinator(options: CoordinatorOptions = {}): Promise<Coordinator> {
  return Coordinator.start(options);
}

function describeError(err: unknown, withStack = false): string {
  if (!(err instanceof Error)) return String(err);
  return withStack && err.stack ? err.stack : err.message;
}
