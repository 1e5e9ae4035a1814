import {
  AccessControl,
  accessSettingsProblem,
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
  loadServerTls,
  TlsConfigError,
  type ProtocolLimits,
  type ServerTls,
  type RespServer,
  type ServerConnection,
  lockDataDir,
  type DataDirLock,
} from '@kv/protocol';
import type { Ring, RingOptions } from '@kv/ring';
import type { Logger } from 'winston';
import { describeChange } from './change-log';
import { HostSpread } from './host-spread';
import { ClusterViewBuilder } from './cluster-view';
import { CoordinatorMetrics } from './coordinator-metrics';
import { dashboardRoutes } from './dashboard';
import { createCoordinatorRouter, type CommandContext } from './coordinator-commands';
import { loadAccess, protectedModeRefusal } from './access-config';
import { resolveConfig, type CoordinatorConfig } from './config';
import { ConfigError, ListenError } from './errors';
import { checkIntervalFor, FailureDetector } from './failure-detector';
import { renderInfo } from './info';
import { createLogger } from './logger';
import type { MemberStatus } from './member-state';
import { Membership, type MembershipChange } from './membership';
import { NodeProbe } from './node-probe';
import { RebalanceProgress } from './rebalance-progress';
import { StateStore } from './state-store';
import { version } from './version';

/** Options of {@link startCoordinator}: any {@link CoordinatorConfig} setting, and more. */
export interface CoordinatorOptions extends Partial<CoordinatorConfig> {
  /**
   * Logger to write to; the coordinator logs through `logger.child({ component:
   * 'Coordinator' })`. When given, `logLevel`, `logFormat` and `silent` are not applied.
   * @default a {@link createLogger} logger with `logLevel` and `logFormat`, on stdout
   */
  readonly logger?: Logger;
  /**
   * Log nothing (for tests).
   * @default false
   */
  readonly silent?: boolean;
  /**
   * Clock in milliseconds for heartbeat ages and failure detection; only differences
   * matter.
   * @default performance.now (monotonic)
   */
  readonly now?: () => number;
  /**
   * The cluster secret members authenticate with.
   * @default read from `clusterSecretFile`, else none
   */
  readonly clusterSecret?: Buffer;
  /**
   * The users clients authenticate as.
   * @default read from `usersFile`, else none
   */
  readonly users?: UserTable;
  /**
   * Protocol limits of the listener.
   * @default {@link COORDINATOR_LIMITS}
   */
  readonly limits?: Partial<ProtocolLimits>;
}

/**
 * The coordinator's protocol limits, tighter than the @kv/protocol defaults because no
 * coordinator command needs a large argument: 64 KiB per argument (longer ones get
 * `-TOOLARGE`), 1,024 arguments per command and 1 MiB held for one unfinished command.
 */
export const COORDINATOR_LIMITS: Readonly<Partial<ProtocolLimits>> = Object.freeze({
  maxBulkLength: 64 * 1024,
  maxArrayLength: 1024,
  maxBufferedBytes: 1024 * 1024,
});

/** How long {@link Coordinator.close} lets open connections finish before cutting them. */
const CLOSE_GRACE_MS = 2000;

interface Parts {
  readonly config: CoordinatorConfig;
  readonly logger: Logger;
  readonly membership: Membership;
  readonly store: StateStore | undefined;
  /** Held while the coordinator runs on its data directory. */
  readonly lock: DataDirLock | undefined;
  readonly now: () => number;
  readonly limits: Partial<ProtocolLimits> | undefined;
  readonly clusterSecret: Buffer | undefined;
  readonly users: UserTable | undefined;
  readonly tls: ServerTls | undefined;
}

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
  private boundPort = 0;
  private startedAt = 0;
  private commandsProcessed = 0;
  private authFailures = 0;
  private closing: Promise<void> | undefined;

  private constructor(parts: Parts) {
    this.config = parts.config;
    this.tls = parts.tls;
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
    const context: CommandContext = {
      membership: this.membership,
      commit: (change) => this.commit(change),
      info: () => this.info(),
      access,
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
    });
    // The dashboard reads the nodes' INFO as a member, over TLS when the cluster speaks it.
    this.probe = new NodeProbe(() => performance.now(), undefined, {
      ...(this.tls && { connect: connectTls(this.tls) }),
      handshake: handshakeFor({ clusterSecret: parts.clusterSecret }),
    });
    this.view = new ClusterViewBuilder({
      epoch: () => this.membership.epoch,
      target: () => this.membership.target,
      members: () => this.membership.list(true),
      failureTimeoutMs: this.config.failureTimeoutMs,
      probe: this.probe,
      progress: new RebalanceProgress(() => performance.now()),
    });
    this.detector = new FailureDetector(this.membership, {
      failureTimeoutMs: this.config.failureTimeoutMs,
      checkIntervalMs: checkIntervalFor(
        this.config.heartbeatIntervalMs,
        this.config.failureTimeoutMs,
      ),
      onChange: (change) => void this.commit(change),
      onError: (err) => this.logger.error(`Failure check failed: ${describeError(err)}`),
      onHold: (silent, members) =>
        this.logger.warn(
          `Lost contact with ${silent} of ${members} members at once: assuming this coordinator ` +
            'is the one cut off, no node is declared dead until most members are heard again',
        ),
      onResume: () => this.logger.warn('Most members are heard again: failure detection resumes'),
      onStall: (stallMs) =>
        this.logger.warn(
          `The coordinator did not run for ${Math.round(stallMs)} ms (blocked or paused); ` +
            'that time is not counted against the members',
        ),
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
    const config = resolveConfig(options);
    const { clusterSecret, users } =
      options.clusterSecret !== undefined || options.users !== undefined
        ? options
        : loadAccess(config);
    const refusal = protectedModeRefusal({ ...config, clusterSecret });
    if (refusal !== undefined) throw new ConfigError(refusal, 'host');
    const problem = accessSettingsProblem({ clusterSecret, users });
    if (problem !== undefined) throw new ConfigError(problem, 'users');
    const tls = readTls(config);
    const logger = (
      options.logger ??
      createLogger({
        level: config.logLevel,
        format: config.logFormat,
        silent: options.silent ?? false,
      })
    ).child({ component: 'Coordinator' });
    const now = options.now ?? (() => performance.now());
    const ringOptions: RingOptions = {
      replicationFactor: config.replicationFactor,
      vnodesPerWeight: config.vnodesPerWeight,
    };
    // One process per data directory: two coordinators saving one state file would each
    // overwrite the other's membership.
    const lock = config.dataDir === undefined ? undefined : lockDataDir(config.dataDir);
    try {
      const store = config.dataDir === undefined ? undefined : new StateStore(config.dataDir);
      const saved = await store?.load();
      let membership: Membership;
      if (store && saved) {
        membership = Membership.restore(saved, { now });
        logger.info(
          `Loaded membership from ${store.file}: epoch ${saved.epoch}, ` +
            `${saved.ring.members.length} member(s) on probation until they heartbeat`,
        );
        warnOnRingOptions(logger, store.file, saved.ring, ringOptions);
      } else {
        membership = new Membership({ ring: ringOptions, now });
      }
      // Writing at once proves the directory is writable before any node relies on it.
      await store?.save(membership.toState());
      const coordinator = new Coordinator({
        config,
        logger,
        membership,
        store,
        lock,
        now,
        limits: options.limits,
        clusterSecret,
        users,
        tls,
      });
      await coordinator.listen();
      return coordinator;
    } catch (err) {
      lock?.release();
      throw err;
    }
  }

  /** The address it listens on, as configured. */
  get host(): string {
    return this.config.host;
  }

  /** The port it listens on (the one bound, when 0 was asked for). */
  get port(): number {
    return this.boundPort;
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
    this.detector.start();
    this.logger.info(`Started on ${host}:${this.boundPort}${describeServerTls(this.tls)}`);
    if (this.http)
      this.logger.info(`Dashboard on http://${host}:${this.http.port}/ (metrics at /metrics)`);
  }

  /** `/metrics` and the dashboard, on the coordinator's own interface. */
  private async serveHttp(port: number): Promise<void> {
    const { host } = this.config;
    try {
      this.http = await createHttpEndpoint(port, host, {
        metrics: this.metrics.registry,
        routes: dashboardRoutes(this.view),
        onError: (err) => this.logger.error(`Serving HTTP failed: ${describeError(err, true)}`),
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
    const counts = this.membership.counts();
    const { options } = this.membership.ring;
    return renderInfo({
      version: version(),
      epoch: this.membership.epoch,
      members: counts.members,
      membersUp: counts.up,
      membersProbation: counts.probation,
      membersJoining: counts.joining,
      membersLeaving: counts.leaving,
      deadRemembered: counts.deadRemembered,
      uptimeSeconds: Math.floor((this.now() - this.startedAt) / 1000),
      tcpPort: this.boundPort,
      connectedClients: this.server.connectionCount,
      commandsProcessed: this.commandsProcessed,
      authFailures: this.authFailures,
      heartbeatIntervalMs: this.config.heartbeatIntervalMs,
      failureTimeoutMs: this.config.failureTimeoutMs,
      replicationFactor: options.replicationFactor,
      vnodesPerWeight: options.vnodesPerWeight,
      dataDir: this.store?.dir,
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

function warnOnRingOptions(
  logger: Logger,
  file: string,
  saved: Required<RingOptions>,
  configured: RingOptions,
): void {
  const differences = (['replicationFactor', 'vnodesPerWeight'] as const)
    .filter((option) => saved[option] !== configured[option])
    .map((option) => `${option} ${saved[option]} (configured: ${configured[option]})`);
  if (differences.length === 0) return;
  logger.warn(
    `Using the ring options saved in ${file}: ${differences.join(', ')}. ` +
      'Changing them would move every key; to change them, start with an empty data directory',
  );
}

function describeError(err: unknown, withStack = false): string {
  if (!(err instanceof Error)) return String(err);
  return withStack && err.stack ? err.stack : err.message;
}

/** The TLS files of `config`, read now: a file that cannot be read is a configuration error. */
function readTls(config: CoordinatorConfig): ServerTls | undefined {
  try {
    return loadServerTls(config);
  } catch (err) {
    if (err instanceof TlsConfigError)
      throw new ConfigError(err.message, undefined, { cause: err });
    throw err;
  }
}
