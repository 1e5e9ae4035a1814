import {
  Access,
  AUTH_COMMANDS,
  CommandRouter,
  ErrorCode,
  OK,
  ReplyError,
  Scope,
  SimpleString,
  timeReply,
  quoteArg,
  type CommandHook,
  type CommandSpec,
  type AccessControl,
  type CommandTable,
} from '@kv/protocol';
import { RingError, RingTooLargeError, encodeRingReply } from '@kv/ring';
import { nodeId, registerOptions, wrongArgs } from './command-args';
import type { Leadership } from './etcd-coordination';
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
  /** Who each connection is; what AUTH and the member challenge change. */
  readonly access: AccessControl;
  /**
   * Among coordinators sharing etcd, where membership changes run (here when this one
   * leads, else on the leader); undefined for a single coordinator, which runs them all.
   */
  readonly leadership?: Leadership;
}

const PONG = new SimpleString('PONG');
const NOT_REGISTERED = '`-NOTREGISTERED ...` as HEARTBEAT';

/**
 * The commands that change membership (heartbeats included, as they end a member's
 * silence): among coordinators sharing etcd only the leader runs them, the others forward
 * them to it.
 */
const MEMBERSHIP_COMMANDS = {
  REGISTER_NODE: {
    scope: Scope.admin,
    arity: [2, 7],
    usage: 'REGISTER_NODE host port [ZONE zone] [WEIGHT weight] [JOINING]',
    reply: 'array `[id (bulk), epoch (integer)]`',
    errors:
      '`-WRONGARGS` for a port that is not an integer 1..65535, a weight that is not a number > 0 and ≤ 100, an unknown, repeated or valueless option, a host or zone with spaces or control characters, or over 255 bytes',
    async run(args, context) {
      const id = nodeId(args[1] as Buffer, args[2] as Buffer);
      const registration = register(context.membership, id, registerOptions(args.slice(3)));
      if (registration.change) await context.commit(registration.change);
      return [registration.id, registration.epoch];
    },
  },
  HEARTBEAT: {
    scope: Scope.admin,
    arity: [2, 2],
    usage: 'HEARTBEAT host port',
    reply: 'integer: the current epoch',
    errors: '`-NOTREGISTERED node <id> is not registered: send REGISTER_NODE`',
    run: (args, context) => asMember(args, (id) => context.membership.heartbeat(id)),
  },
  UNREGISTER_NODE: {
    scope: Scope.admin,
    arity: [2, 2],
    usage: 'UNREGISTER_NODE host port',
    reply: '`+OK`',
    errors: NOT_REGISTERED,
    async run(args, context) {
      await context.commit(asMember(args, (id) => context.membership.unregister(id)));
      return OK;
    },
  },
  NODE_READY: {
    scope: Scope.admin,
    arity: [2, 2],
    usage: 'NODE_READY host port',
    reply: 'integer: the epoch afterwards',
    errors: NOT_REGISTERED,
    run: (args, context) => changePhase(context, args, (m, id) => m.ready(id)),
  },
  LEAVING: {
    scope: Scope.admin,
    arity: [2, 2],
    usage: 'LEAVING host port',
    reply: 'integer: the epoch afterwards',
    errors: NOT_REGISTERED,
    run: (args, context) => changePhase(context, args, (m, id) => m.leave(id)),
  },
} as const satisfies CommandTable<CommandContext>;

/**
 * The coordinator's commands, by upper-case name. Nodes send the `admin` ones to join,
 * heartbeat and leave; clients and operators read membership and the ring with the
 * `client` ones. HELP and COMMAND come with the router.
 */
export const COORDINATOR_COMMANDS = {
  ...MEMBERSHIP_COMMANDS,
  FORWARD: {
    scope: Scope.admin,
    arity: [1, Infinity],
    usage: 'FORWARD command [arg ...]',
    reply:
      'the reply of `command` (one of REGISTER_NODE, HEARTBEAT, UNREGISTER_NODE, NODE_READY, LEAVING), run on this coordinator',
    errors:
      '`-UNAVAILABLE` when this coordinator does not lead (it never forwards further); `-ERR` for any other command',
    // What a follower sends the leader in place of the membership change it received.
    run(args, context, connection) {
      const inner = args.slice(1);
      const name = (inner[0] as Buffer).toString('latin1').toUpperCase();
      const spec = Object.hasOwn(MEMBERSHIP_COMMANDS, name)
        ? (MEMBERSHIP_COMMANDS[
            name as keyof typeof MEMBERSHIP_COMMANDS
          ] as CommandSpec<CommandContext>)
        : undefined;
      if (spec === undefined)
        throw new ReplyError(
          `${ErrorCode.ERR} FORWARD carries only ${Object.keys(MEMBERSHIP_COMMANDS).join(', ')}, not ${quoteArg(inner[0] as Buffer)}`,
        );
      if (inner.length - 1 < spec.arity[0] || inner.length - 1 > spec.arity[1])
        throw wrongArgs(`wrong number of arguments for '${name}': usage ${spec.usage}`);
      context.leadership?.assertLeads();
      return spec.run(inner, context, connection);
    },
  },
  GET_NODES_FOR_KEY: {
    scope: Scope.client,
    access: Access.read,
    arity: [1, 1],
    usage: 'GET_NODES_FOR_KEY key',
    reply:
      'array of ids: the primary, then the replicas (replication factor long, or every member if there are fewer)',
    errors: '`-UNAVAILABLE no nodes registered`',
    run(args, context) {
      const ring = context.membership.ring;
      if (ring.size === 0) {
        return new ReplyError(`${ErrorCode.UNAVAILABLE} no nodes registered`);
      }
      return ring.preferenceList(args[1] as Buffer);
    },
  },
  LIST_NODES: {
    scope: Scope.client,
    access: Access.read,
    arity: [0, 1],
    usage: 'LIST_NODES [ALL]',
    reply:
      'array, one entry per member sorted by id: `[id, state, zone, weight, heartbeat age]`; with `ALL` also the remembered dead',
    errors: '`-WRONGARGS` for any option other than `ALL`',
    run(args, context) {
      const option = args[1];
      if (option !== undefined && option.toString('latin1').toUpperCase() !== 'ALL') {
        throw wrongArgs(`unknown option ${quoteArg(option)}: LIST_NODES takes only ALL`);
      }
      return context.membership
        .list(option !== undefined)
        .map((m) => [m.id, m.state, m.zone, String(m.weight), Math.round(m.heartbeatAgeMs)]);
    },
  },
  RING: {
    scope: Scope.client,
    access: Access.read,
    arity: [0, 1],
    usage: 'RING [known-epoch]',
    reply:
      'array `[epoch, ring (bulk JSON)]`, plus `target ring (bulk JSON)` while a node joins or leaves; `[epoch]` alone when `known-epoch` is current',
    errors: '`-WRONGARGS` for a known epoch that is not an integer',
    // A client that already holds the current epoch gets `[epoch]` alone, so polling for
    // changes costs a few bytes instead of the whole ring. While a node joins or leaves,
    // the target ring (where writes also go) follows the ring reads are routed by.
    run: (args, { membership }) => {
      const known = args[1]?.toString('latin1');
      if (known !== undefined && !/^-?\d{1,15}$/.test(known))
        throw wrongArgs(`RING known-epoch must be an integer, got '${known}'`);
      return encodeRingReply(membership.ringEpoch, known === undefined ? undefined : Number(known));
    },
  },
  PING: {
    scope: Scope.client,
    access: Access.open,
    arity: [0, 1],
    usage: 'PING [message]',
    reply: '`+PONG`, or the message as a bulk string',
    // A copy: the argument is a view into the receive buffer.
    run: (args) => (args[1] === undefined ? PONG : Buffer.from(args[1])),
  },
  TIME: {
    scope: Scope.client,
    access: Access.read,
    arity: [0, 0],
    usage: 'TIME',
    reply:
      "`[unix seconds, microseconds]` of the coordinator's wall clock, as Redis answers; nodes measure their clock offset with it",
    run: () => timeReply(Date.now()),
  },
  INFO: {
    scope: Scope.client,
    access: Access.read,
    arity: [0, 1],
    usage: 'INFO [section]',
    reply: 'bulk text: `key:value` lines under `# Coordinator` (the section is ignored)',
    run: (_args, context) => context.info(),
  },
  // Enough of CONFIG GET for redis-cli to start without complaint.
  CONFIG: {
    scope: Scope.client,
    access: Access.read,
    arity: [1, Infinity],
    usage: 'CONFIG GET parameter [...]',
    reply: 'empty array',
    errors: '`-ERR unknown subcommand` for other `CONFIG` subcommands',
    run(args) {
      const sub = args[1] as Buffer;
      if (sub.toString('latin1').toUpperCase() !== 'GET') {
        return new ReplyError(
          `${ErrorCode.ERR} unknown subcommand ${quoteArg(sub)}: try CONFIG GET`,
        );
      }
      return [];
    },
  },
  ...AUTH_COMMANDS,
} as const satisfies CommandTable<CommandContext>;

/** Names of the coordinator's own commands (HELP and COMMAND come with the router). */
export type CommandName = keyof typeof COORDINATOR_COMMANDS;

/**
 * The router of the coordinator's commands, with `hooks` run before each. A membership
 * change runs here, or on the leader when the context's `leadership` says another
 * coordinator leads.
 */
export function createCoordinatorRouter(
  hooks: readonly CommandHook[] = [],
): CommandRouter<CommandContext> {
  const table: Record<string, CommandSpec<CommandContext>> = { ...COORDINATOR_COMMANDS };
  for (const [name, spec] of Object.entries(MEMBERSHIP_COMMANDS) as [
    string,
    CommandSpec<CommandContext>,
  ][]) {
    table[name] = {
      ...spec,
      run: (args, context, connection) =>
        context.leadership?.route(args) ?? spec.run(args, context, connection),
    };
  }
  return new CommandRouter<CommandContext>(table, { hooks });
}

/** Runs `change` on the member `host port`; one it does not know is `-NOTREGISTERED`. */
function asMember<T>(args: Buffer[], change: (id: string) => T): T {
  const id = nodeId(args[1] as Buffer, args[2] as Buffer);
  try {
    return change(id);
  } catch (err) {
    if (err instanceof NotRegisteredError) {
      throw new ReplyError(`${ErrorCode.NOTREGISTERED} ${err.message}`);
    }
    throw err;
  }
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
  const done = asMember(args, (id) => change(context.membership, id));
  if (done) await context.commit(done);
  return context.membership.epoch;
}
