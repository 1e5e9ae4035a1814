import { ReplyError, type RespValue } from '@kv/protocol';

/** A member as the coordinator lists it. */
export interface NodeStatus {
  /** `host:port`. */
  readonly id: string;
  /**
   * `up`; `probation` (not heard from since a coordinator restart); `joining` (copying its
   * ranges, serving no reads yet) or `leaving` (handing its ranges on), the node's phase in
   * the ring epoch; or `dead`.
   */
  readonly state: string;
  readonly zone: string;
  readonly weight: number;
  /** Milliseconds since its last heartbeat. */
  readonly lastHeartbeatMs: number;
}

/** Reads a `LIST_NODES` reply: one `[id, state, zone, weight, heartbeat age]` per member. */
export function parseNodeList(reply: RespValue): NodeStatus[] {
  if (!Array.isArray(reply)) throw new ReplyError('ERR unexpected reply to LIST_NODES');
  return reply.map((row) => {
    const [id, state, zone, weight, age] = Array.isArray(row) ? row : [];
    return {
      id: String(id),
      state: String(state),
      zone: String(zone),
      weight: Number(String(weight)),
      lastHeartbeatMs: Number(age),
    };
  });
}
