import {
  ErrorCode,
  OK,
  ReplyError,
  SimpleString,
  type Reply,
  type ServerConnection,
} from '@kv/protocol';
import { tooLarge, wrongArgs } from './errors';
import { isLive, type StoredRecord } from './record';
import { NodeCommand, encodeApplyResult, encodeRecord, parseReplicate } from './replication';
import type { QuorumOperations } from './quorum-operations';
import { globMatcher, type ScanCursors } from './scan';
import type { Store } from './store';
import { SYNC_COMMANDS, type SyncContext } from './sync-commands';

/** What command handlers need from the node. */
export interface CommandContext extends SyncContext {
  readonly store: Store;
  /** Reads and writes on the key's replicas. */
  readonly quorum: QuorumOperations;
  /** Largest key accepted, in bytes. */
  readonly maxKeyBytes: number;
  /** Wall clock, milliseconds since the epoch. */
  now(): number;
  /** The INFO text, for the sections asked (all when empty). */
  info(sections: string[]): string;
  /** Values for CONFIG GET. */
  config(): Record<string, string>;
  /** The rings this node routes with as JSON (target only while it differs), once it has them. */
  ring(): { readonly epoch: number; readonly json: string; readonly target?: string } | undefined;
  /** SCAN's cursors over this node's data. */
  readonly scans: ScanCursors;
  /** Starts a graceful leave (hand-off, unregister, stop); false if one already started. */
  decommission(): boolean;
}

type Handler = (
  args: Buffer[],
  ctx: CommandContext,
  connection: ServerConnection,
) => Reply | Promise<Reply>;

interface CommandSpec {
  /** Fewest arguments, the command name included. */
  readonly min: number;
  /** Most arguments; Infinity for no limit. */
  readonly max: number;
  /** Usage shown in the WRONGARGS reply. */
  readonly usage: string;
  readonly run: Handler;
}

const PONG = new SimpleString('PONG');

function upper(arg: Buffer | undefined): string {
  return arg === undefined ? '' : arg.toString('latin1').toUpperCase();
}

function integerArg(arg: Buffer | undefined, what: string, min = 0): number {
  const text = arg?.toString('latin1') ?? '';
  const n = /^-?\d{1,15}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min)
    throw wrongArgs(`${what} must be an integer ≥ ${min}, got '${text}'`);
  return n;
}

function checkKey(key: Buffer, ctx: CommandContext): void {
  if (key.length > ctx.maxKeyBytes)
    throw tooLarge(`key of ${key.length} bytes exceeds the limit of ${ctx.maxKeyBytes} bytes`);
}

/** Splits `key ... [W n]` / `[R n]`: the trailing consistency option, if present. */
function trailingQuorum(
  args: Buffer[],
  from: number,
  letter: 'W' | 'R',
): { keys: Buffer[]; quorum: number | undefined } {
  const rest = args.slice(from);
  if (rest.length >= 3 && upper(rest[rest.length - 2]) === letter) {
    return { keys: rest.slice(0, -2), quorum: integerArg(rest[rest.length - 1], letter, 1) };
  }
  return { keys: rest, quorum: undefined };
}

function put(args: Buffer[], ctx: CommandContext): Reply | Promise<Reply> {
  const key = args[1] as Buffer;
  const value = args[2] as Buffer;
  checkKey(key, ctx);
  let expiresAt = 0;
  let w: number | undefined;
  for (let i = 3; i < args.length; i += 2) {
    const option = upper(args[i]);
    if (i + 1 >= args.length) throw wrongArgs(`option ${option} needs a value`);
    if (option === 'EX') expiresAt = ctx.now() + integerArg(args[i + 1], 'EX seconds', 1) * 1000;
    else if (option === 'PX') expiresAt = ctx.now() + integerArg(args[i + 1], 'PX milliseconds', 1);
    else if (option === 'W') w = integerArg(args[i + 1], 'W', 1);
    else
      throw wrongArgs(
        `unsupported option '${args[i]?.toString() ?? ''}' (PUT key value [EX seconds|PX milliseconds] [W n])`,
      );
  }
  const done = ctx.quorum.write(key, value, expiresAt, w);
  return done instanceof Promise ? done.then(() => OK) : OK;
}

function get(args: Buffer[], ctx: CommandContext): Reply | Promise<Reply> {
  const { keys, quorum } = trailingQuorum(args, 1, 'R');
  if (keys.length !== 1) throw wrongArgs('GET key [R n]');
  const key = keys[0] as Buffer;
  checkKey(key, ctx);
  const found = ctx.quorum.read(key, quorum);
  const live = (record: StoredRecord | undefined): Reply =>
    isLive(record, ctx.now()) ? record.value : null;
  return found instanceof Promise ? found.then(live) : live(found);
}

async function del(args: Buffer[], ctx: CommandContext): Promise<Reply> {
  const { keys, quorum } = trailingQuorum(args, 1, 'W');
  if (keys.length === 0) throw wrongArgs('DELETE key [key ...] [W n]');
  keys.forEach((k) => checkKey(k, ctx));
  const results = await Promise.all(
    keys.map(async (k) => await ctx.quorum.write(k, null, 0, quorum)),
  );
  return results.filter((r) => r.existed).length;
}

async function exists(args: Buffer[], ctx: CommandContext): Promise<Reply> {
  const { keys, quorum } = trailingQuorum(args, 1, 'R');
  if (keys.length === 0) throw wrongArgs('EXISTS key [key ...] [R n]');
  keys.forEach((k) => checkKey(k, ctx));
  const records = await Promise.all(keys.map(async (k) => await ctx.quorum.read(k, quorum)));
  const now = ctx.now();
  return records.filter((r) => isLive(r, now)).length;
}

function config(args: Buffer[], ctx: CommandContext): Reply {
  if (upper(args[1]) !== 'GET') throw wrongArgs('only CONFIG GET parameter is supported');
  const values = ctx.config();
  const out: string[] = [];
  for (const pattern of args.slice(2)) {
    const matches = matcher(Buffer.from(pattern.toString().toLowerCase()));
    for (const [name, value] of Object.entries(values))
      if (matches(Buffer.from(name))) out.push(name, value);
  }
  return out;
}

function matcher(pattern: Buffer): (key: Buffer) => boolean {
  try {
    return globMatcher(pattern.toString('latin1'));
  } catch {
    throw wrongArgs(`invalid pattern '${pattern.toString()}'`);
  }
}

function scan(args: Buffer[], ctx: CommandContext): Reply {
  const cursor = args[1]?.toString('latin1') ?? '';
  if (!/^\d{1,15}$/.test(cursor)) throw wrongArgs(`invalid cursor '${cursor}'`);
  let count = 10;
  let match: ((key: Buffer) => boolean) | undefined;
  for (let i = 2; i < args.length; i += 2) {
    const option = upper(args[i]);
    if (i + 1 >= args.length) throw wrongArgs(`option ${option} needs a value`);
    if (option === 'COUNT') count = integerArg(args[i + 1], 'COUNT', 1);
    else if (option === 'MATCH') match = matcher(args[i + 1] as Buffer);
    else
      throw wrongArgs(`unsupported option '${option}' (SCAN cursor [MATCH pattern] [COUNT count])`);
  }
  try {
    const [next, keys] = ctx.scans.step(cursor, Math.min(count, 100_000), match);
    return [next, keys];
  } catch (err) {
    if (err instanceof RangeError) throw new ReplyError(`${ErrorCode.ERR} ${err.message}`);
    throw err;
  }
}

const put_: CommandSpec = {
  min: 3,
  max: 9,
  usage: 'PUT key value [EX seconds|PX milliseconds] [W n]',
  run: put,
};
const del_: CommandSpec = { min: 2, max: Infinity, usage: 'DELETE key [key ...] [W n]', run: del };

/**
 * Every command a node answers, by upper-case name. The spec's names are canonical; Redis
 * names are aliases (SET = PUT, DEL = DELETE).
 */
export const COMMANDS: Readonly<Record<string, CommandSpec>> = {
  PUT: put_,
  SET: put_,
  GET: { min: 2, max: 4, usage: 'GET key [R n]', run: get },
  DELETE: del_,
  DEL: del_,
  EXISTS: { min: 2, max: Infinity, usage: 'EXISTS key [key ...] [R n]', run: exists },
  PING: { min: 1, max: 2, usage: 'PING [message]', run: (args) => args[1] ?? PONG },
  ECHO: { min: 2, max: 2, usage: 'ECHO message', run: (args) => args[1] as Buffer },
  INFO: {
    min: 1,
    max: Infinity,
    usage: 'INFO [section ...]',
    run: (args, ctx) => ctx.info(args.slice(1).map((a) => a.toString().toLowerCase())),
  },
  // The node's view of the ring, in the coordinator's reply shape: clients that cannot
  // reach the coordinator learn ring changes from the nodes they talk to.
  RING: {
    min: 1,
    max: 2,
    usage: 'RING [known-epoch]',
    run: (args, ctx) => {
      const known = args[1] === undefined ? undefined : integerArg(args[1], 'known-epoch', -1);
      const view = ctx.ring();
      if (view === undefined)
        throw new ReplyError(`${ErrorCode.UNAVAILABLE} this node has no ring yet`);
      if (known === view.epoch) return [view.epoch];
      return view.target === undefined
        ? [view.epoch, view.json]
        : [view.epoch, view.json, view.target];
    },
  },
  SCAN: { min: 2, max: 6, usage: 'SCAN cursor [MATCH pattern] [COUNT count]', run: scan },
  DBSIZE: {
    min: 1,
    max: 1,
    usage: 'DBSIZE',
    // As in Redis, a key that expired counts until it is purged: O(1), not a scan.
    run: (_args, ctx) => ctx.store.size - ctx.store.tombstones,
  },
  SELECT: {
    min: 2,
    max: 2,
    usage: 'SELECT 0',
    run: (args) =>
      args[1]?.toString() === '0'
        ? OK
        : new ReplyError(`${ErrorCode.ERR} DB index is out of range: kv has only database 0`),
  },
  // redis-cli and redis-benchmark ask for these when they start; nothing here is invented.
  COMMAND: { min: 1, max: Infinity, usage: 'COMMAND', run: () => [] },
  CONFIG: { min: 3, max: Infinity, usage: 'CONFIG GET parameter', run: config },
  // Operators retire a node with `kv decommission host:port`: the node hands its data to
  // the next owners, leaves the ring and stops, as on SIGTERM.
  DECOMMISSION: {
    min: 1,
    max: 1,
    usage: 'DECOMMISSION',
    run: (_args, ctx) =>
      ctx.decommission()
        ? new SimpleString('OK leaving: handing off data, then stopping')
        : new ReplyError(`${ErrorCode.ERR} this node is already stopping`),
  },
  QUIT: {
    min: 1,
    max: 1,
    usage: 'QUIT',
    run: (_args, _ctx, connection) => {
      connection.close();
      return OK;
    },
  },
  ...SYNC_COMMANDS,
  [NodeCommand.replicate]: {
    min: 5,
    max: 6,
    usage: 'REPLICATE key ts origin expiresAt [value]',
    run: (args, ctx) => {
      const { key, record } = parseReplicate(args);
      const result = ctx.store.apply(key, record);
      return result instanceof Promise ? result.then(encodeApplyResult) : encodeApplyResult(result);
    },
  },
  [NodeCommand.fetch]: {
    min: 2,
    max: 2,
    usage: 'FETCH key',
    run: (args, ctx) => encodeRecord(ctx.store.read(args[1] as Buffer)),
  },
};

const TABLE: ReadonlyMap<string, CommandSpec> = new Map(Object.entries(COMMANDS));

/** Looks up and checks a command; the reply for an unknown one or one with the wrong arity. */
export function dispatch(
  args: Buffer[],
  ctx: CommandContext,
  connection: ServerConnection,
  count: (name: string) => void,
): Reply | Promise<Reply> {
  // Clients send command names in upper case nearly always: look that up before folding.
  const raw = args[0]?.toString('latin1') ?? '';
  let spec = TABLE.get(raw);
  const name = spec ? raw : raw.toUpperCase();
  spec ??= TABLE.get(name);
  if (!spec) {
    const shown = (args[0]?.toString() ?? '').slice(0, 128);
    return new ReplyError(`${ErrorCode.ERR} unknown command '${shown}'`);
  }
  if (args.length < spec.min || args.length > spec.max) {
    return wrongArgs(`wrong number of arguments for '${name}': ${spec.usage}`);
  }
  count(name);
  return spec.run(args, ctx, connection);
}
