import { RespConnection, type CommandArg, type RespValue } from '@kv/protocol';
import { memberAuth } from './cluster-secret';
import { endpointOf, type Target } from './endpoint';

/** Options of {@link send}. */
export interface SendOptions {
  /** Reply timeout, also used to connect. @default 3000 */
  timeoutMs?: number;
}

/**
 * Opens a connection to a kv server (a port of 127.0.0.1 or an endpoint), authenticated as
 * a member, runs `use`, and always closes it.
 */
export async function withConnection<T>(
  target: Target,
  use: (connection: RespConnection) => Promise<T>,
  { timeoutMs = 3000 }: SendOptions = {},
): Promise<T> {
  const connection = await RespConnection.connect({
    ...endpointOf(target),
    connectTimeoutMs: timeoutMs,
    requestTimeoutMs: timeoutMs,
    handshake: memberAuth(),
  });
  try {
    return await use(connection);
  } finally {
    connection.destroy();
  }
}

/** Sends one command on a connection of its own. Error replies reject as `ReplyError`. */
export function send(
  target: Target,
  args: readonly CommandArg[],
  options?: SendOptions,
): Promise<RespValue> {
  return withConnection(target, (c) => c.send(args), options);
}

/** A bulk or status reply as text; null stays null. */
export function text(value: RespValue): string | null {
  if (value === null) return null;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (typeof value === 'object' && !Array.isArray(value) && 'value' in value) return value.value;
  throw new Error(`expected a string reply, got ${inspectReply(value)}`);
}

export function inspectReply(value: RespValue): string {
  if (Buffer.isBuffer(value)) return JSON.stringify(value.toString('utf8'));
  if (Array.isArray(value)) return `[${value.map(inspectReply).join(', ')}]`;
  if (value instanceof Error) return `(error) ${value.message}`;
  if (value !== null && typeof value === 'object') return `+${value.value}`;
  return String(value);
}

/** One row of the coordinator's `LIST_NODES`. */
export interface MemberRow {
  readonly id: string;
  readonly state: string;
  readonly zone: string;
  readonly weight: string;
  readonly heartbeatAgeMs: number;
}

/** `LIST_NODES [ALL]` on the coordinator. */
export async function listNodes(coordinator: Target, all = false): Promise<MemberRow[]> {
  const reply = await send(coordinator, all ? ['LIST_NODES', 'ALL'] : ['LIST_NODES']);
  if (!Array.isArray(reply)) throw new Error(`LIST_NODES: unexpected ${inspectReply(reply)}`);
  return reply.map((row) => {
    if (!Array.isArray(row) || row.length !== 5)
      throw new Error(`LIST_NODES: unexpected row ${inspectReply(row)}`);
    return {
      id: text(row[0] as RespValue) ?? '',
      state: text(row[1] as RespValue) ?? '',
      zone: text(row[2] as RespValue) ?? '',
      weight: text(row[3] as RespValue) ?? '',
      heartbeatAgeMs: Number(row[4]),
    };
  });
}

/** The ids `LIST_NODES` shows, sorted. */
export async function memberIds(coordinator: Target): Promise<string[]> {
  return (await listNodes(coordinator)).map((m) => m.id).sort();
}

/** `RING` of a coordinator or a node: the epoch and the ring's JSON text. */
export interface RingView {
  readonly epoch: number;
  readonly json: string;
  /** The ring placement is heading to, while a node joins or leaves. */
  readonly target?: string;
}

export async function ringOf(server: Target): Promise<RingView> {
  const reply = await send(server, ['RING']);
  if (!Array.isArray(reply) || reply.length < 2 || reply.length > 3)
    throw new Error(`RING: unexpected ${inspectReply(reply)}`);
  const [epoch, json, target] = reply as [RespValue, RespValue, RespValue | undefined];
  const view = { epoch: Number(epoch), json: text(json) ?? '' };
  return target === undefined ? view : { ...view, target: text(target) ?? '' };
}

/** `GET_NODES_FOR_KEY`: primary first, then the replicas. */
export async function nodesForKey(coordinator: Target, key: string): Promise<string[]> {
  const reply = await send(coordinator, ['GET_NODES_FOR_KEY', key]);
  if (!Array.isArray(reply))
    throw new Error(`GET_NODES_FOR_KEY: unexpected ${inspectReply(reply)}`);
  return reply.map((id) => text(id as RespValue) ?? '');
}

/** A node's local copy of a key, from the node-to-node `FETCH`. */
export interface LocalRecord {
  readonly ts: number;
  readonly origin: string;
  readonly expiresAt: number;
  /** null for a tombstone. */
  readonly value: string | null;
}

function localRecord(reply: RespValue): LocalRecord | null {
  if (reply === null) return null;
  if (!Array.isArray(reply) || reply.length !== 4)
    throw new Error(`FETCH: unexpected ${inspectReply(reply)}`);
  return {
    ts: Number(reply[0]),
    origin: text(reply[1] as RespValue) ?? '',
    expiresAt: Number(reply[2]),
    value: text(reply[3] as RespValue),
  };
}

/** `FETCH key` on one node: what that node itself holds, or null. */
export async function fetchLocal(node: Target, key: string): Promise<LocalRecord | null> {
  return localRecord(await send(node, ['FETCH', key]));
}

/** `FETCH` of each key on one node, pipelined on one connection, in the order of `keys`. */
export async function fetchLocalAll(
  node: Target,
  keys: readonly string[],
  options?: SendOptions,
): Promise<(LocalRecord | null)[]> {
  return withConnection(
    node,
    async (c) => (await Promise.all(keys.map((k) => c.send(['FETCH', k])))).map(localRecord),
    options,
  );
}

/** Every live key a node holds itself, by walking `SCAN` to the end. */
export async function scanKeys(node: Target): Promise<string[]> {
  return withConnection(node, async (connection) => {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const reply = await connection.send(['SCAN', cursor, 'COUNT', '1000']);
      if (!Array.isArray(reply) || !Array.isArray(reply[1]))
        throw new Error(`SCAN: unexpected ${inspectReply(reply)}`);
      cursor = text(reply[0] as RespValue) ?? '0';
      for (const key of reply[1]) keys.push(text(key) ?? '');
    } while (cursor !== '0');
    return keys;
  });
}

/** One `INFO` field of a node, as a number (NaN when absent). */
export async function infoNumber(node: Target, field: string): Promise<number> {
  const info = text(await send(node, ['INFO'])) ?? '';
  const line = info.split('\r\n').find((l) => l.startsWith(`${field}:`));
  return line === undefined ? Number.NaN : Number(line.slice(field.length + 1));
}
