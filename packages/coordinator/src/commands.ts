import { ErrorCode, OK, ReplyError, SimpleString, type Reply } from '@kv/protocol';
import { RingError, RingTooLargeError } from '@kv/ring';
import { nodeId, quote, registerOptions, wrongArgs } from './command-args';
import { NotRegisteredError } from './errors';
import type { Membership, MembershipChange, RegisterOptions, Registration } from './membership';

/** What commands need from the coordinator running them. */
export interface CommandContext {
  /** The registry the commands read and change. */
  readonly membership: Membership;
  /**
   * Logs a membership change and persists the new state. Resolves when it is saved, or
   * when saving failed (which is logged): the change stands either way.
   */
  commit(change: MembershipChange): Promise<void>;
  /** The text of the `INFO` reply. */
  info(): string;
}

/** One command: how many arguments it takes and what it does. */
export interface Command {
  /** Fewest and most arguments after the command name. */
  readonly arity: readonly [min: number, max: number];
  /** Shown in the reply to a wrong number of arguments. */
  readonly usage: string;
  /** Serves the command; `args[0]` is the name. May throw a {@link ReplyError}. */
  readonly run: (context: CommandContext, args: Buffer[]) => Reply | Promise<Reply>;
}

const PONG = new SimpleString('PONG');

/** The coordinator's commands, by upper-case name. Names are matched case-insensitively. */
export const COMMANDS = {
  REGISTER_NODE: {
    arity: [2, 7],
    usage: 'REGISTER_NODE host port [ZONE zone] [WEIGHT weight] [JOINING]',
    async run(context, args) {
      const id = nodeId(args[1] as Buffer, args[2] as Buffer);
      const registration = register(context.membership, id, registerOptions(args.slice(3)));
      if (registration.change) await context.commit(registration.change);
      return [registration.id, registration.epoch];
    },
  },
  HEARTBEAT: {
    arity: [2, 2],
    usage: 'HEARTBEAT host port',
    run: (context, args) =>
      context.membership.heartbeat(nodeId(args[1] as Buffer, args[2] as Buffer)),
  },
  NODE_READY: {
    arity: [2, 2],
    usage: 'NODE_READY host port',
    run: (context, args) => changePhase(context, args, (m, id) => m.ready(id)),
  },
  LEAVING: {
    arity: [2, 2],
    usage: 'LEAVING host port',
    run: (context, args) => changePhase(context, args, (m, id) => m.leave(id)),
  },
  UNREGISTER_NODE: {
    arity: [2, 2],
    usage: 'UNREGISTER_NODE host port',
    async run(context, args) {
      const id = nodeId(args[1] as Buffer, args[2] as Buffer);
      await context.commit(context.membership.unregister(id));
      return OK;
    },
  },
  GET_NODES_FOR_KEY: {
    arity: [1, 1],
    usage: 'GET_NODES_FOR_KEY key',
    run(context, args) {
      const ring = context.membership.ring;
      if (ring.size === 0) {
        return new ReplyError(`${ErrorCode.UNAVAILABLE} no nodes registered`);
      }
      return ring.preferenceList(args[1] as Buffer);
    },
  },
  LIST_NODES: {
    arity: [0, 1],
    usage: 'LIST_NODES [ALL]',
    run(context, args) {
      const option = args[1];
      if (option !== undefined && option.toString('latin1').toUpperCase() !== 'ALL') {
        throw wrongArgs(`unknown option ${quote(option)}: LIST_NODES takes only ALL`);
      }
      return context.membership
        .list(option !== undefined)
        .map((m) => [m.id, m.state, m.zone, String(m.weight), Math.round(m.heartbeatAgeMs)]);
    },
  },
  RING: {
    arity: [0, 1],
    usage: 'RING [known-epoch]',
    // A client that already holds the current epoch gets `[epoch]` alone, so polling for
    // changes costs a few bytes instead of the whole ring. While a node joins or leaves,
    // the target ring (where writes also go) follows the ring reads are routed by.
    run: ({ membership }, args) => {
      const known = args[1]?.toString('latin1');
      if (known !== undefined && !/^-?\d{1,15}$/.test(known))
        throw wrongArgs(`RING known-epoch must be an integer, got '${known}'`);
      if (known !== undefined && Number(known) === membership.epoch) return [membership.epoch];
      const reply: Reply[] = [membership.epoch, JSON.stringify(membership.ring.toJSON())];
      if (membership.target !== membership.ring)
        reply.push(JSON.stringify(membership.target.toJSON()));
      return reply;
    },
  },
  PING: {
    arity: [0, 1],
    usage: 'PING [message]',
    // A copy: the argument is a view into the receive buffer.
    run: (_context, args) => (args[1] === undefined ? PONG : Buffer.from(args[1])),
  },
  INFO: {
    arity: [0, 1],
    usage: 'INFO [section]',
    run: (context) => context.info(),
  },
  // Enough of COMMAND and CONFIG GET for redis-cli to start without complaint.
  COMMAND: {
    arity: [0, Infinity],
    usage: 'COMMAND [...]',
    run: () => [],
  },
  CONFIG: {
    arity: [1, Infinity],
    usage: 'CONFIG GET parameter [...]',
    run(_context, args) {
      const sub = args[1] as Buffer;
      if (sub.toString('latin1').toUpperCase() !== 'GET') {
        return new ReplyError(`${ErrorCode.ERR} unknown subcommand ${quote(sub)}: try CONFIG GET`);
      }
      return [];
    },
  },
} as const satisfies Record<string, Command>;

/** Names of the coordinator's commands. */
export type CommandName = keyof typeof COMMANDS;

const TABLE: ReadonlyMap<string, Command> = new Map(Object.entries(COMMANDS));

/**
 * Runs one request: looks the command up (case-insensitively), checks its arity, runs it,
 * and turns the expected failures into error replies. Anything else propagates, and the
 * RESP server answers it with `-ERR internal error` and reports it.
 */
export function dispatch(context: CommandContext, args: Buffer[]): Reply | Promise<Reply> {
  const nameArg = args[0] as Buffer;
  const command = TABLE.get(nameArg.toString('latin1').toUpperCase());
  if (command === undefined) {
    return new ReplyError(`${ErrorCode.ERR} unknown command ${quote(nameArg)}`);
  }
  const count = args.length - 1;
  if (count < command.arity[0] || count > command.arity[1]) {
    return wrongArgs(`wrong number of arguments for ${quote(nameArg)}: usage ${command.usage}`);
  }
  try {
    const reply = command.run(context, args);
    return reply instanceof Promise ? reply.catch(toReply) : reply;
  } catch (err) {
    return toReply(err);
  }
}

/** The error reply for an expected failure; rethrows anything else. */
function toReply(err: unknown): ReplyError {
  if (err instanceof ReplyError) return err;
  if (err instanceof NotRegisteredError) {
    return new ReplyError(`${ErrorCode.NOTREGISTERED} ${err.message}`);
  }
  throw err;
}

function register(membership: Membership, id: string, options: RegisterOptions): Registration {
  try {
    return membership.register(id, options);
  } catch (err) {
    if (err instanceof RingTooLargeError) {
      throw new ReplyError(`${ErrorCode.ERR} cannot register ${id}: ${err.message}`);
    }
    if (err instanceof RingError) throw wrongArgs(`cannot register ${id}: ${err.message}`);
    throw err;
  }
}

/** Moves node `host port` to another phase; commits the change if there was one. */
async function changePhase(
  context: CommandContext,
  args: Buffer[],
  change: (membership: Membership, id: string) => MembershipChange | undefined,
): Promise<number> {
  const done = change(context.membership, nodeId(args[1] as Buffer, args[2] as Buffer));
  if (done) await context.commit(done);
  return context.membership.epoch;
}
