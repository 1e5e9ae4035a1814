import {
  accessSettingsProblem,
  isLoopbackHost,
  loadServerTls,
  parseAddress,
  type ServerTls,
} from '@kv/protocol';
import { MAX_WEIGHT } from '@kv/ring';
import { FSYNC_MODES, type StorageEngine } from './engine';
import { InvalidNodeOptionError } from './errors';
import {
  DURABLE_MAX_IN_FLIGHT,
  ENGINE_NAMES,
  NODE_DEFAULTS,
  type EngineName,
  type NodeOptions,
} from './node-options';

/** A `host:port` split. */
export interface Address {
  readonly host: string;
  readonly port: number;
}

/** Options without a default: still undefined after resolution when not given. */
type UnsetByDefault =
  | 'zone'
  | 'replicationFactor'
  | 'logger'
  | 'wallClock'
  | 'tlsCert'
  | 'tlsKey'
  | 'tlsCa'
  | 'clusterSecret'
  | 'users'
  | 'metricsPort'
  | 'dataDir';

/** {@link NodeOptions} with every default applied and every value checked. */
export type ResolvedNodeOptions = Required<
  Omit<NodeOptions, 'advertise' | 'coordinator' | 'engine' | UnsetByDefault>
> &
  Pick<NodeOptions, UnsetByDefault> & {
    /**
     * The TLS files read, when TLS is on (`tls !== undefined`): the listener's certificate,
     * and the certificate and CA of the node's own connections.
     */
    readonly tls: ServerTls | undefined;
    /** The engine instance given, or which engine to open. */
    readonly engine: StorageEngine | EngineName;
    /** Parsed `advertise`, when given (else the bound address). */
    readonly advertise: Address | undefined;
    /** Parsed `coordinator`: one address or more. */
    readonly coordinators: readonly Address[];
  };

function addressOption(address: string, what: string): Address {
  const parsed = parseAddress(address);
  if (!parsed) throw new InvalidNodeOptionError(`${what} must be host:port, got '${address}'`);
  return parsed;
}

function checkQuorum(value: number, name: string, rf: number | undefined): void {
  if (!Number.isInteger(value) || value < 1 || (rf !== undefined && value > rf)) {
    throw new InvalidNodeOptionError(
      `${name} must be an integer between 1 and the replication factor${rf ? ` (${rf})` : ''}, got ${value}`,
    );
  }
}

/**
 * Why the node may not listen where `options` say, or undefined: protected mode, as in
 * Redis. Without a cluster secret or TLS, any process that reaches the port could
 * replicate, sync or decommission, so only a loopback address is allowed unless `insecure`
 * is set.
 */
export function protectedModeRefusal(
  options: Pick<NodeOptions, 'host' | 'clusterSecret' | 'tlsCert' | 'insecure'>,
): string | undefined {
  const host = options.host ?? NODE_DEFAULTS.host;
  if (
    options.clusterSecret !== undefined ||
    options.tlsCert !== undefined ||
    options.insecure === true ||
    isLoopbackHost(host)
  )
    return undefined;
  return `protected mode: refusing to listen on ${host} without a cluster secret or TLS, as anyone who reaches it could replicate, sync or decommission; give --cluster-secret-file (or KV_CLUSTER_SECRET) or --tls-cert/--tls-key, listen on 127.0.0.1, or pass --insecure to accept the risk`;
}

/**
 * Applies {@link NODE_DEFAULTS} to `options`, checks them and reads the TLS files.
 * @throws InvalidNodeOptionError for a quorum out of range, a malformed address, a weight
 *   outside (0, 100], a memory bound that is not a whole number of bytes, a non-loopback
 *   host without a cluster secret or TLS ({@link protectedModeRefusal}), or users without a
 *   cluster secret; TlsConfigError for TLS files that cannot be read or a certificate
 *   without its key
 */
export function resolveNodeOptions(options: NodeOptions): ResolvedNodeOptions {
  const defined = Object.fromEntries(
    Object.entries(options).filter(([, value]) => value !== undefined),
  ) as NodeOptions;
  const resolved = {
    ...NODE_DEFAULTS,
    ...defined,
    advertise:
      options.advertise === undefined ? undefined : addressOption(options.advertise, 'advertise'),
    coordinators: (options.coordinator ?? NODE_DEFAULTS.coordinator)
      .split(',')
      .map((address) => addressOption(address.trim(), 'coordinator')),
    tls: undefined as ServerTls | undefined,
  };
  const refusal = protectedModeRefusal(resolved);
  if (refusal !== undefined) throw new InvalidNodeOptionError(refusal);
  const problem = accessSettingsProblem(resolved);
  if (problem !== undefined) throw new InvalidNodeOptionError(problem);
  resolved.tls = loadServerTls(resolved);
  const engine = options.engine ?? (options.dataDir === undefined ? 'memory' : 'lmdb');
  if (typeof engine === 'string' && !(ENGINE_NAMES as readonly string[]).includes(engine))
    throw new InvalidNodeOptionError(
      `engine must be one of ${ENGINE_NAMES.join(', ')}, got ${String(engine)}`,
    );
  if (engine === 'lmdb' && options.dataDir === undefined)
    throw new InvalidNodeOptionError('the lmdb engine needs a data directory (--data-dir DIR)');
  if (engine === 'memory' && options.dataDir !== undefined)
    throw new InvalidNodeOptionError(
      'the memory engine keeps nothing on disk: drop --data-dir, or use --engine lmdb',
    );
  if (!(FSYNC_MODES as readonly string[]).includes(resolved.fsync))
    throw new InvalidNodeOptionError(
      `fsync must be one of ${FSYNC_MODES.join(', ')}, got ${String(resolved.fsync)}`,
    );
  if (options.maxInFlight === undefined && engine === 'lmdb' && resolved.fsync === 'always')
    resolved.maxInFlight = DURABLE_MAX_IN_FLIGHT;
  if (!Number.isInteger(resolved.fsyncIntervalMs) || resolved.fsyncIntervalMs < 1)
    throw new InvalidNodeOptionError(
      `fsync interval must be a whole number of milliseconds from 1, got ${resolved.fsyncIntervalMs}`,
    );
  checkQuorum(resolved.writeQuorum, 'write quorum', options.replicationFactor);
  checkQuorum(resolved.readQuorum, 'read quorum', options.replicationFactor);
  const { metricsPort } = resolved;
  if (
    metricsPort !== undefined &&
    (!Number.isInteger(metricsPort) || metricsPort < 0 || metricsPort > 65535)
  )
    throw new InvalidNodeOptionError(`metrics port must be from 0 to 65535, got ${metricsPort}`);
  for (const [name, value] of [
    ['max clock offset', resolved.maxClockOffsetMs],
    ['write deadline', resolved.writeDeadlineMs],
  ] as const) {
    if (!Number.isFinite(value) || value <= 0)
      throw new InvalidNodeOptionError(`${name} must be a positive number of ms, got ${value}`);
  }
  if (!(resolved.weight > 0 && resolved.weight <= MAX_WEIGHT))
    throw new InvalidNodeOptionError(
      `weight must be a number greater than 0 and at most ${MAX_WEIGHT}, got ${resolved.weight}`,
    );
  if (!Number.isSafeInteger(resolved.maxMemory) || resolved.maxMemory < 0)
    throw new InvalidNodeOptionError(
      `max memory must be a whole number of bytes (0 for no bound), got ${resolved.maxMemory}`,
    );
  if (!Number.isSafeInteger(resolved.maxInFlight) || resolved.maxInFlight < 0)
    throw new InvalidNodeOptionError(
      `max in flight must be a whole number of requests (0 for no bound), got ${resolved.maxInFlight}`,
    );
  if (!Number.isSafeInteger(resolved.maxReplicaQueue) || resolved.maxReplicaQueue < 1)
    throw new InvalidNodeOptionError(
      `max replica queue must be a whole number of requests from 1, got ${resolved.maxReplicaQueue}`,
    );
  return { ...resolved, engine };
}
