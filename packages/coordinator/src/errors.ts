/** Base class of every error this package throws. */
export class CoordinatorError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CoordinatorError';
  }
}

/** A configuration value (flag, environment variable or option) is invalid; the CLI exits 2. */
export class ConfigError extends CoordinatorError {
  /** Where the value came from: `--port`, `KV_PORT` or the option name `port`. */
  readonly option: string | undefined;
  constructor(message: string, option?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConfigError';
    this.option = option;
  }
}

/** A heartbeat, leave or removal named a node that is not a member (never joined, left or died). */
export class NotRegisteredError extends CoordinatorError {
  /** The node id (`host:port`). */
  readonly id: string;
  constructor(id: string) {
    super(`node ${id} is not registered: send REGISTER_NODE`);
    this.name = 'NotRegisteredError';
    this.id = id;
  }
}

/** The state file exists but cannot be read or does not hold a valid membership. */
export class StateFileError extends CoordinatorError {
  /** Absolute path of the state file. */
  readonly file: string;
  constructor(file: string, problem: string, options?: ErrorOptions) {
    super(
      `cannot load coordinator state from ${file}: ${problem}. Move the file aside ` +
        `(mv ${file} ${file}.bad) to start with empty membership; nodes re-register within a heartbeat`,
      options,
    );
    this.name = 'StateFileError';
    this.file = file;
  }
}

/** Writing the state file failed (disk full, permissions, ...); the membership in memory is intact. */
export class StateWriteError extends CoordinatorError {
  /** Absolute path of the state file. */
  readonly file: string;
  constructor(file: string, options?: ErrorOptions) {
    const cause = options?.cause as NodeJS.ErrnoException | undefined;
    super(
      `cannot write coordinator state to ${file}${cause?.code ? ` (${cause.code})` : ''}` +
        `${cause?.message ? `: ${cause.message}` : ''}`,
      options,
    );
    this.name = 'StateWriteError';
    this.file = file;
  }
}

/** The server could not listen on the configured address. */
export class ListenError extends CoordinatorError {
  /** `host:port` that was requested. */
  readonly address: string;
  /** The system error code (`EADDRINUSE`, `EACCES`, ...), when there is one. */
  readonly code: string | undefined;
  constructor(address: string, code: string | undefined, options?: ErrorOptions) {
    super(`cannot listen on ${address}${code ? ` (${code})` : ''}${listenHint(code)}`, options);
    this.name = 'ListenError';
    this.address = address;
    this.code = code;
  }
}

function listenHint(code: string | undefined): string {
  switch (code) {
    case 'EADDRINUSE':
      return ': is another coordinator running there? Choose another --port';
    case 'EADDRNOTAVAIL':
      return ': is --host an address of this machine?';
    case 'EACCES':
      return ': ports below 1024 need privileges; choose another --port';
    default:
      return '';
  }
}

/** The etcd lease a coordinator campaigned with has expired: it cannot lead under it. */
export class LeaseLostError extends CoordinatorError {
  /** The lease id. */
  readonly lease: string;
  constructor(lease: string, options?: ErrorOptions) {
    super(`etcd lease ${lease} expired or was revoked`, options);
    this.name = 'LeaseLostError';
    this.lease = lease;
  }
}

/**
 * A coordinator that no longer leads tried to change the membership: etcd refused the
 * write because the leader key is not held by its lease any more (or it knew so itself).
 * The change is dropped; the new leader decides.
 */
export class NotLeaderError extends CoordinatorError {
  constructor(message = 'this coordinator no longer leads: the change was not saved') {
    super(message);
    this.name = 'NotLeaderError';
  }
}

/** etcd did not answer, or answered an error; the coordinator keeps retrying. */
export class EtcdUnavailableError extends CoordinatorError {
  constructor(endpoints: string, options?: ErrorOptions) {
    const cause = options?.cause instanceof Error ? `: ${options.cause.message}` : '';
    super(
      `cannot reach etcd at ${endpoints}${cause}; is it running, and is --store right?`,
      options,
    );
    this.name = 'EtcdUnavailableError';
  }
}

/** The membership state key in etcd holds something that is not a valid membership. */
export class EtcdStateError extends CoordinatorError {
  /** The etcd key. */
  readonly key: string;
  constructor(key: string, problem: string, options?: ErrorOptions) {
    super(
      `cannot load coordinator state from etcd key ${key}: ${problem}. Delete it ` +
        `(etcdctl del ${key}) to start with empty membership; nodes re-register within a heartbeat`,
      options,
    );
    this.name = 'EtcdStateError';
    this.key = key;
  }
}
