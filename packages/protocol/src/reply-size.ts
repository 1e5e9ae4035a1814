import type { Reply } from './types';

/**
 * About how many bytes `reply` takes on the wire: its bulk strings' bytes (strings counted
 * by length) plus a few for each item's framing.
 */
export function replyBytes(reply: Reply): number {
  if (reply === null || typeof reply !== 'object')
    return typeof reply === 'string' ? reply.length + 16 : 16;
  if (reply instanceof Uint8Array) return reply.length + 16;
  if (!Array.isArray(reply)) return 16;
  let bytes = 16;
  for (const item of reply as readonly Reply[]) bytes += replyBytes(item);
  return bytes;
}
