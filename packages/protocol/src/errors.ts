/**
 * Error codes a kv server puts at the start of an error reply (`-CODE message`). The set
 * is closed: every code a kv server sends is listed here and in docs/protocol.md.
 */
export const ErrorCode = {
  /** Generic failure, also used for unknown commands (as Redis does, so Redis tools understand it). */
  ERR: 'ERR',
  /** Wrong number or shape of arguments for the command. */
  WRONGARGS: 'WRONGARGS',
  /** A key, value or request exceeds a configured limit; nothing was stored. */
  TOOLARGE: 'TOOLARGE',
  /** Authentication is required or failed. */
  NOAUTH: 'NOAUTH',
  /** Not enough replicas answered to satisfy the requested consistency. */
  UNAVAILABLE: 'UNAVAILABLE',
  /** A peer the server depended on did not answer in time. */
  TIMEOUT: 'TIMEOUT',
  /** The key is owned elsewhere; the message names the owner. */
  MOVED: 'MOVED',
  /** The request was not valid RESP; the server closes the connection after this reply. */
  PROTO: 'PROTO',
  /** A heartbeat or leave named a node the coordinator does not know; register again. */
  NOTREGISTERED: 'NOTREGISTERED',
  /**
   * A version stamped further ahead of the receiving node's clock than the cluster's clock
   * offset bound, or a replica whose own clock is out of bounds: nothing was stored.
   */
  CLOCKSKEW: 'CLOCKSKEW',
  /**
   * A replica asked to answer a read alone may lack acknowledged writes (it was fenced, cut
   * off or paused, or has not synced a range it gained): the asker reads another replica.
   */
  STALE: 'STALE',
} as const;

/** One of the {@link ErrorCode} values. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Base class of every error this package throws or rejects with. */
export class RespError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RespError';
  }
}

/** The bytes received are not valid RESP (bad length, missing CRLF, unknown type byte, unbalanced quotes). */
export class ProtocolError extends RespError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ProtocolError';
  }
}

/** A frame exceeds one of the configured {@link ProtocolLimits}; the stream cannot continue. */
export class LimitExceededError extends ProtocolError {
  /** Name of the limit that was exceeded, e.g. `maxArrayLength`. */
  readonly limit: string;
  /** The configured value of that limit. */
  readonly max: number;
  constructor(limit: string, max: number, actual: number, what: string) {
    super(`${what} of ${actual} exceeds the limit of ${max} (${limit})`);
    this.name = 'LimitExceededError';
    this.limit = limit;
    this.max = max;
  }
}

/**
 * A request argument was longer than `maxBulkLength`. Its bytes were skipped without being
 * buffered and the connection stays usable; the server answers this request with `-TOOLARGE`.
 */
export class TooLargeError extends RespError {
  /** Declared length of the argument that was skipped. */
  readonly length: number;
  /** The configured `maxBulkLength`. */
  readonly max: number;
  constructor(length: number, max: number) {
    super(`argument of ${length} bytes exceeds the limit of ${max} bytes`);
    this.name = 'TooLargeError';
    this.length = length;
    this.max = max;
  }
}

/** An error reply (`-CODE message`) received from a server. */
export class ReplyError extends RespError {
  /** The first word of the reply, e.g. `ERR` or `UNAVAILABLE`. */
  readonly code: string;
  constructor(line: string) {
    super(line);
    this.name = 'ReplyError';
    const space = line.indexOf(' ');
    this.code = space === -1 ? line : line.slice(0, space);
  }
}

/** Opening a TCP connection failed or did not finish within the connect timeout. */
export class ConnectError extends RespError {
  /** `host:port` that was dialled. */
  readonly address: string;
  /** The system error code (`ECONNREFUSED`, `ETIMEDOUT`, ...), when there is one. */
  readonly code: string | undefined;
  constructor(address: string, code: string | undefined, options?: ErrorOptions) {
    super(`cannot connect to ${address}${code ? ` (${code})` : ''}`, options);
    this.name = 'ConnectError';
    this.address = address;
    this.code = code;
  }
}

/** The connection closed or failed while a request was waiting to be sent or for its reply. */
export class ConnectionClosedError extends RespError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConnectionClosedError';
  }
}

/** No reply arrived within the request timeout. The connection itself stays open. */
export class RequestTimeoutError extends RespError {
  /** The timeout that elapsed, in milliseconds. */
  readonly timeoutMs: number;
  constructor(timeoutMs: number) {
    super(`no reply within ${timeoutMs} ms`);
    this.name = 'RequestTimeoutError';
    this.timeoutMs = timeoutMs;
  }
}

/** The request was abandoned because its AbortSignal fired. */
export class RequestAbortedError extends RespError {
  constructor(options?: ErrorOptions) {
    super('request aborted', options);
    this.name = 'RequestAbortedError';
  }
}

/** The connection already has `maxPending` requests outstanding; the request was not sent. */
export class QueueFullError extends RespError {
  constructor(maxPending: number) {
    super(`${maxPending} requests already pending on this connection`);
    this.name = 'QueueFullError';
  }
}

/**
 * A server could not be reached through a {@link ConnectionPool}: connecting failed, the
 * connection broke or timed out, or the server is backing off after such a failure.
 */
export class UnreachableError extends RespError {
  /** `host:port` of the server. */
  readonly address: string;
  /** Why: a system error code (`ECONNREFUSED`), `no reply within 1000 ms`, ... */
  readonly reason: string;
  constructor(address: string, reason: string, options?: ErrorOptions) {
    super(`${address} is unreachable (${reason})`, options);
    this.name = 'UnreachableError';
    this.address = address;
    this.reason = reason;
  }
}

/** Another process (or another server in this one) runs on the data directory. */
export class DataDirLockedError extends RespError {
  readonly code = 'KV_DATA_DIR_LOCKED';
  constructor(
    readonly dir: string,
    readonly pid: number,
    lockFile: string,
  ) {
    super(
      `data directory ${dir} is in use by process ${pid} (lock file ${dir}/${lockFile}): ` +
        'stop that process or choose another --data-dir',
    );
    this.name = 'DataDirLockedError';
  }
}
