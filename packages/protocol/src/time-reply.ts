import type { RespValue } from './types';

/** Reads a `TIME` reply (`[unix seconds, microseconds]`, as Redis answers) as milliseconds. */
export function parseTimeReply(reply: RespValue): number | undefined {
  if (!Array.isArray(reply) || reply.length !== 2) return undefined;
  const seconds = Number(String(reply[0]));
  const micros = Number(String(reply[1]));
  if (!Number.isSafeInteger(seconds) || !Number.isSafeInteger(micros)) return undefined;
  return seconds * 1000 + micros / 1000;
}

/** The `TIME` reply for a wall clock reading in milliseconds. */
export function timeReply(nowMs: number): [string, string] {
  const micros = Math.floor(nowMs * 1000);
  return [String(Math.floor(micros / 1_000_000)), String(micros % 1_000_000)];
}
