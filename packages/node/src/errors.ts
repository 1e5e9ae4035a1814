import { ErrorCode, ReplyError } from '@kv/protocol';

/** Base class of the errors this package throws. */
export class NodeError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'NodeError';
  }
}

/** A node option or flag has an invalid value. */
export class InvalidNodeOptionError extends NodeError {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidNodeOptionError';
  }
}

/** A peer node could not be reached or is backing off after failures. */
export class PeerUnavailableError extends NodeError {
  /** Id (`host:port`) of the peer. */
  readonly peer: string;
  constructor(peer: string, options?: ErrorOptions) {
    super(`peer ${peer} is unreachable`, options);
    this.name = 'PeerUnavailableError';
    this.peer = peer;
  }
}

/** `-WRONGARGS` reply: the request's arguments are wrong. */
export function wrongArgs(message: string): ReplyError {
  return new ReplyError(`${ErrorCode.WRONGARGS} ${message}`);
}

/** `-UNAVAILABLE` reply: not enough replicas answered. */
export function unavailable(message: string): ReplyError {
  return new ReplyError(`${ErrorCode.UNAVAILABLE} ${message}`);
}

/** `-TOOLARGE` reply. */
export function tooLarge(message: string): ReplyError {
  return new ReplyError(`${ErrorCode.TOOLARGE} ${message}`);
}
