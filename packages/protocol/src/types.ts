import type { ReplyError } from './errors';

/**
 * A status reply (`+OK`). Kept apart from bulk strings so that encoding a reply value is
 * unambiguous: a JS string is sent as a bulk string, a SimpleString as a status line.
 */
export class SimpleString {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

/** The `+OK` status reply. */
export const OK = new SimpleString('OK');

/**
 * A decoded RESP2 reply: status → {@link SimpleString}, error → {@link ReplyError},
 * integer → number (bigint beyond 2^53), bulk → Buffer, null bulk and null array → null,
 * array → array of replies.
 *
 * Bulk Buffers are views into the bytes received; copy one (`Buffer.from(b)`) to keep it
 * beyond the moment it is handled.
 */
export type RespValue = SimpleString | ReplyError | number | bigint | Buffer | null | RespValue[];

/**
 * A value a server handler may answer with. Like {@link RespValue}, and a JS string is
 * sent as a bulk string (UTF-8).
 */
export type Reply = RespValue | string | readonly Reply[];

/** One argument of a command to send: strings are sent as UTF-8, numbers in decimal. */
export type CommandArg = string | Buffer | Uint8Array | number;
