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

/** A write reached a storage engine after it was closed (the node is stopping). */
export class EngineClosedError extends NodeError {
  constructor() {
    super('the storage engine is closed: the node is stopping');
    this.name = 'EngineClosedError';
  }
}
