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
  /** The node holds more than its memory bound (`--max-memory`): the write was refused. */
  OOM: 'OOM',
  /**
   * The command needs authentication this connection has not done: `AUTH` (clients, when
   * users are configured) or the member challenge (nodes and operators, with the cluster
   * secret); also a member proof that does not verify.
   */
  NOAUTH: 'NOAUTH',
  /** `AUTH` named an unknown user or a wrong password (Redis's code). */
  WRONGPASS: 'WRONGPASS',
  /** The authenticated user's permission does not allow the command (Redis's code). */
  NOPERM: 'NOPERM',
  /** Not enough replicas answered to satisfy the requested consistency. */
  UNAVAILABLE: 'UNAVAILABLE',
  /**
   * A peer the server depended on did not answer in time; or the client did not complete
   * a request within the server's request timeout (the connection is then closed).
   */
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
 * A request argument was longer than `maxBulkLength`, or a request had more arguments than
 * `maxArguments`. Its bytes were skipped without being kept and the connection stays
 * usable; the server answers this request with `-TOOLARGE`.
 */
export class TooLargeError extends RespError {
  /** Declared length of the argument that was skipped (or the request's argument count). */
  readonly length: number;
  /** The configured `maxBulkLength` (or `maxArguments`). */
  readonly max: number;
  constructor(
    length: number,
    max: number,
    message = `argument of ${length} bytes exceeds the limit of ${max} bytes`,
  ) {
    super(message);
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

/**
 * What the TLS error codes a client meets mean, and what to do; the codes are OpenSSL's
 * verification results and Node.js's `ERR_SSL_*` / `ERR_TLS_*`.
 */
const TLS_FAILURES: Readonly<Record<string, string>> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    "the server's certificate is not signed by a trusted CA: give the CA that signed it (--tls-ca)",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    "the server's certificate is not signed by a trusted CA: give the CA that signed it (--tls-ca)",
  SELF_SIGNED_CERT_IN_CHAIN:
    "the server's certificate is signed by an untrusted CA: give the CA that signed it (--tls-ca)",
  DEPTH_ZERO_SELF_SIGNED_CERT:
    "the server's certificate is self-signed and not trusted: give it as the CA (--tls-ca)",
  CERT_HAS_EXPIRED: "the server's certificate has expired",
  CERT_NOT_YET_VALID: "the server's certificate is not valid yet (check the clocks)",
  ERR_TLS_CERT_ALTNAME_INVALID:
    "the server's certificate does not name the address dialled: connect by a name it carries, or set the TLS servername",
  ERR_SSL_WRONG_VERSION_NUMBER: 'the server does not speak TLS on this port: connect without TLS',
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED:
    'the server requires a client certificate: give one signed by its CA (--tls-cert, --tls-key)',
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA:
    "the server refused this client certificate: it is not signed by the server's CA",
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: 'the server refused this client certificate',
};

/** What a TLS error code means for a client, or undefined for a code that is not TLS's. */
export function describeTlsFailure(code: string | undefined): string | undefined {
  return code === undefined ? undefined : TLS_FAILURES[code];
}

/** Opening a connection failed or did not finish (TLS handshake included) within the connect timeout. */
export class ConnectError extends RespError {
  /** `host:port` that was dialled. */
  readonly address: string;
  /** The system or TLS error code (`ECONNREFUSED`, `ETIMEDOUT`, `ERR_TLS_CERT_ALTNAME_INVALID`, ...), when there is one. */
  readonly code: string | undefined;
  /** The code, followed for TLS failures by what it means (as in the message). */
  readonly reason: string | undefined;
  constructor(address: string, code: string | undefined, options?: ErrorOptions) {
    const tls = describeTlsFailure(code);
    const reason = code && tls ? `${code}: ${tls}` : code;
    super(`cannot connect to ${address}${reason ? ` (${reason})` : ''}`, options);
    this.reason = reason;
    this.name = 'ConnectError';
    this.address = address;
    this.code = code;
  }
}

/**
 * A connection was opened but the server refused its authentication (a wrong cluster
 * secret, user or password); the connection is closed.
 */
export class AuthenticationError extends RespError {
  /** `host:port` of the server. */
  readonly address: string;
  /** The code of the server's refusal: `NOAUTH`, `WRONGPASS`, `ERR`, ... */
  readonly code: string;
  constructor(address: string, refusal: ReplyError) {
    super(`authentication to ${address} failed: ${refusal.message}`, { cause: refusal });
    this.name = 'AuthenticationError';
    this.address = address;
    this.code = refusal.code;
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
  /**
   * Whether replies to earlier requests arrived while this one waited: the peer is alive
   * and working through a queue, rather than gone.
   */
  readonly peerAnswered: boolean;
  constructor(timeoutMs: number, peerAnswered = false) {
    super(`no reply within ${timeoutMs} ms`);
    this.name = 'RequestTimeoutError';
    this.timeoutMs = timeoutMs;
    this.peerAnswered = peerAnswered;
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

/**
 * A server that is reachable but busy: too many requests already wait on the connection to
 * it (the request was not sent), or it went on answering earlier requests but not this one
 * within the timeout. Unlike other {@link UnreachableError}s, the connection stays open
 * and the server is not backed off: dropping a busy server's connection would fail every
 * request waiting on it, and dialling again adds work.
 */
export class OverloadedError extends UnreachableError {
  constructor(address: string, reason: string, options?: ErrorOptions) {
    super(address, reason, options);
    this.name = 'OverloadedError';
    this.message = `${address} is overloaded (${reason})`;
  }
}

/** A users file line or a user list that cannot be used; the message says where and why. */
export class InvalidUsersError extends RespError {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidUsersError';
  }
}

/** A cluster secret that cannot be used (too short, unreadable file); the message says why. */
export class InvalidSecretError extends RespError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InvalidSecretError';
  }
}

/**
 * TLS settings that cannot work: a certificate without its key, a file that cannot be read,
 * PEM that does not parse, a key that does not match its certificate.
 */
export class TlsConfigError extends RespError {
  /** Stable code of this condition. */
  readonly code = 'TLS_CONFIG';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TlsConfigError';
  }
}

/**
 * A peer of a TLS server that requires client certificates presented none, or one not
 * signed by the server's CA; its connection was closed.
 */
export class ClientCertificateError extends RespError {
  /** Stable code of this condition. */
  readonly code = 'CLIENT_CERT_REFUSED';
  /** OpenSSL's verification result (e.g. `UNABLE_TO_VERIFY_LEAF_SIGNATURE`), or `no certificate presented`. */
  readonly reason: string;
  constructor(reason: Error | string | undefined) {
    const text =
      reason instanceof Error
        ? ((reason as NodeJS.ErrnoException).code ?? reason.message)
        : (reason ?? 'unknown');
    super(`client certificate refused (${text})`);
    this.name = 'ClientCertificateError';
    this.reason = text;
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
