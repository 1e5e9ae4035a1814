import { SourceRole, type SourceAttempt } from './source-attempt';

/** Base class of every error @kv/client throws (server error replies are `ReplyError`). */
export class ClientError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ClientError';
  }
}

/** An option given to `createClient` is not valid. */
export class InvalidClientOptionError extends ClientError {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidClientOptionError';
  }
}

/**
 * No coordinator, seed or member could be reached (or none gave a ring), and the client
 * has no ring to work with; or no coordinator answered a membership question.
 */
export class CoordinatorUnreachableError extends ClientError {
  /** `host:port` of the first address tried. */
  readonly address: string;
  /** Why it could not be reached (`ECONNREFUSED`, `no reply within 1000 ms`, ...). */
  readonly reason: string;
  /** Every address tried, in order, and why each did not help. */
  readonly attempts: readonly SourceAttempt[];
  constructor(
    address: string,
    reason: string,
    options?: ErrorOptions & { attempts?: readonly SourceAttempt[] },
  ) {
    const attempts = options?.attempts?.length
      ? options.attempts
      : [{ address, reason, role: SourceRole.coordinator }];
    super(unreachableMessage(attempts), options);
    this.name = 'CoordinatorUnreachableError';
    this.address = address;
    this.reason = reason;
    this.attempts = attempts;
  }
}

/**
 * `cannot reach coordinator at A (reason): is it running?` for one coordinator; with more
 * addresses, each with its reason, grouped by role.
 */
function unreachableMessage(attempts: readonly SourceAttempt[]): string {
  const [only] = attempts;
  // A TLS failure says what to fix itself; "is it running?" would mislead.
  const tls = attempts.some((a) => /TLS|certificate/.test(a.reason));
  if (attempts.length === 1 && only?.role === SourceRole.coordinator)
    return `cannot reach coordinator at ${only.address} (${only.reason})${tls ? '' : ': is it running?'}`;
  const groups = Object.values(SourceRole).flatMap((role) => {
    const of = attempts.filter((a) => a.role === role);
    if (of.length === 0) return [];
    const noun = role === SourceRole.member ? 'ring member' : role;
    const list = of.map((a) => `${a.address} (${a.reason})`).join(', ');
    return [`${of.length === 1 ? noun : `${noun}s`} ${list}`];
  });
  return `cannot reach ${groups.join(' or ')}${tls ? '' : ': is the cluster running?'}`;
}

/** The ring has no storage nodes: none has registered with the coordinator. */
export class NoNodesError extends ClientError {
  constructor(coordinator: string) {
    super(
      `no storage nodes are registered with the coordinator at ${coordinator}: start one (kv node --port 5001)`,
    );
    this.name = 'NoNodesError';
  }
}

/** One node that was tried for a request, and how it failed. */
export interface NodeFailure {
  /** `host:port` of the node. */
  readonly node: string;
  readonly error: Error;
}

/** No node could serve a request: every candidate failed, on every retry. */
export class ClusterUnavailableError extends ClientError {
  /** Every attempt, in order. */
  readonly failures: readonly NodeFailure[];
  constructor(what: string, failures: readonly NodeFailure[]) {
    // Each node once, with its first failure: later ones only add "backing off".
    const first = new Map<string, string>();
    for (const f of failures) if (!first.has(f.node)) first.set(f.node, f.error.message);
    super(`no node could serve ${what}: ${[...first.values()].join('; ')}`, {
      cause: failures[failures.length - 1]?.error,
    });
    this.name = 'ClusterUnavailableError';
    this.failures = failures;
  }
}

/** The client was closed. */
export class ClientClosedError extends ClientError {
  constructor() {
    super('the client is closed');
    this.name = 'ClientClosedError';
  }
}

/** Nodes awaited with `waitUntilServing` did not all serve reads in time. */
export class NotServingError extends ClientError {
  /** Stable code of this condition. */
  readonly code = 'NOT_SERVING';
  /** The nodes still not serving when the wait ended, in the order asked. */
  readonly waiting: readonly string[];
  constructor(timeoutMs: number, waiting: readonly string[], options?: ErrorOptions) {
    super(
      waiting.length === 0
        ? `the coordinator did not answer within ${timeoutMs} ms: is it running?`
        : `${waiting.join(', ')} did not serve reads within ${timeoutMs} ms: see their logs`,
      options,
    );
    this.name = 'NotServingError';
    this.waiting = waiting;
  }
}

/** The keys of one request of a multi-key write, and how it failed. */
export interface KeysFailure {
  /** The keys the request carried, as text. */
  readonly keys: readonly string[];
  /** Its error; a node's `ReplyError` names which of the keys failed. */
  readonly error: Error;
}

/**
 * Some keys of `mset` were not confirmed written. It is not atomic: the keys of the requests
 * that succeeded stay written, and so may some keys of a failed one.
 */
export class PartialWriteError extends ClientError {
  /** Stable code of this condition. */
  readonly code = 'PARTIAL_WRITE';
  /** Keys confirmed written. */
  readonly written: number;
  /** Each request that failed. */
  readonly failures: readonly KeysFailure[];
  constructor(command: string, written: number, failures: readonly KeysFailure[]) {
    const failed = failures.reduce((n, f) => n + f.keys.length, 0);
    super(
      `${command} wrote ${written} of ${written + failed} keys: ${failures.map((f) => f.error.message).join('; ')}`,
      { cause: failures[0]?.error },
    );
    this.name = 'PartialWriteError';
    this.written = written;
    this.failures = failures;
  }
}
