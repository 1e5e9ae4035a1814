import {
  ClientError,
  ClusterUnavailableError,
  CoordinatorUnreachableError,
  InvalidClientOptionError,
  NoNodesError,
} from '@kv/client';
import {
  ConnectError,
  ConnectionClosedError,
  ErrorCode,
  ReplyError,
  RequestTimeoutError,
  RespError,
  UnreachableError,
} from '@kv/protocol';
import { RingError } from '@kv/ring';
import { CliError, UsageError } from './errors';

/** Exit codes of `kv` (the server commands `coordinator` and `node` keep their own). */
export const ExitCode = {
  /** Done: the key was found, written or deleted; the command succeeded. */
  OK: 0,
  /** GET or DELETE of a key that does not exist. */
  NOT_FOUND: 1,
  /**
   * Bad usage: unknown command, missing or extra arguments, a bad flag, or a request the
   * server rejected as malformed (WRONGARGS, TOOLARGE).
   */
  USAGE: 2,
  /** The cluster cannot be reached or cannot serve the request now: retrying later may work. */
  UNAVAILABLE: 3,
  /**
   * Any other failure: an unexpected server error, or a `kv cluster` process that could
   * not start or died.
   */
  FAILURE: 4,
} as const;

/** One of the {@link ExitCode} values. */
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Server error codes that mean "the request itself is wrong". */
const USAGE_REPLY_CODES: ReadonlySet<string> = new Set([ErrorCode.WRONGARGS, ErrorCode.TOOLARGE]);

/**
 * Server error codes that mean "not now": too few replicas answered, one was too slow, or
 * the node is full (it takes writes again once keys are deleted).
 */
const UNAVAILABLE_REPLY_CODES: ReadonlySet<string> = new Set([
  ErrorCode.UNAVAILABLE,
  ErrorCode.TIMEOUT,
  ErrorCode.OOM,
]);

/**
 * The exit code `kv` ends with after `err`: {@link ExitCode.USAGE} for usage errors and
 * requests the server rejected as malformed, {@link ExitCode.UNAVAILABLE} when the
 * coordinator or the nodes could not be reached or did not answer in time, and
 * {@link ExitCode.FAILURE} for anything else.
 */
export function exitCodeFor(err: unknown): ExitCode {
  if (err instanceof UsageError || err instanceof InvalidClientOptionError) return ExitCode.USAGE;
  if (err instanceof ReplyError) {
    if (USAGE_REPLY_CODES.has(err.code)) return ExitCode.USAGE;
    if (UNAVAILABLE_REPLY_CODES.has(err.code)) return ExitCode.UNAVAILABLE;
    return ExitCode.FAILURE;
  }
  if (
    err instanceof CoordinatorUnreachableError ||
    err instanceof NoNodesError ||
    err instanceof ClusterUnavailableError ||
    err instanceof RequestTimeoutError ||
    err instanceof UnreachableError ||
    err instanceof ConnectError ||
    err instanceof ConnectionClosedError
  ) {
    return ExitCode.UNAVAILABLE;
  }
  return ExitCode.FAILURE;
}

/**
 * Whether `err` is a failure `kv` expects and reports in one line (`kv: <message>`): an
 * error of kv itself, of the client library or of the wire protocol. Anything else is a
 * defect and is reported with its stack.
 */
export function isExpectedError(err: unknown): err is Error {
  return (
    err instanceof CliError ||
    err instanceof ClientError ||
    err instanceof RespError ||
    err instanceof RingError
  );
}
