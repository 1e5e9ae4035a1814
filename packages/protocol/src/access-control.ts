import { Access, Scope, type CommandHook, type CommandTable, type RoutedCommand } from './command';
import { ErrorCode, ReplyError } from './errors';
import { createNonce, verifyMemberProof, type RandomSource } from './member-auth';
import type { ServerConnection } from './server';
import { OK } from './types';
import { DEFAULT_USER, Permission, type User, type UserTable } from './users';

/** Who a connection has proven to be. */
export type Identity =
  { readonly kind: 'member' } | { readonly kind: 'user'; readonly user: User } | undefined;

/** Why authentication failed, as counted by {@link AccessControlOptions.onFailure}. */
export type AuthFailure = 'password' | 'member';

/** Options of {@link AccessControl}. */
export interface AccessControlOptions {
  /**
   * The cluster secret. With it, `peer` and `admin` commands are refused until the
   * connection answered the member challenge (or, for `admin`, authenticated as an admin user).
   * @default none: members are not authenticated
   */
  clusterSecret?: Buffer;
  /**
   * The users. With any, `client` commands other than those declared `open` are refused
   * until the connection sent `AUTH`.
   * @default none: clients are not authenticated
   */
  users?: UserTable;
  /** Told of each wrong password and each member proof that did not verify. */
  onFailure?: (kind: AuthFailure, connection: ServerConnection) => void;
  /** @default crypto.randomBytes */
  random?: RandomSource;
}

/** The state of one connection. */
interface ConnectionState {
  identity: Identity;
  /** The nonce of the last `AUTH_CHALLENGE`, until an `AUTH_MEMBER` uses it. */
  nonce: string | undefined;
}

const NOAUTH_CLIENT = `${ErrorCode.NOAUTH} Authentication required.`;
const WRONGPASS = `${ErrorCode.WRONGPASS} invalid username-password pair or user is disabled.`;

/**
 * Why `identity` may not run `command`, or undefined if it may. Members run everything.
 * `client` commands are open to all while no users are configured; otherwise `open` ones
 * are, `read` ones need a user and the rest a user who is not read-only. `peer` and
 * `admin` commands are open to all only while neither a cluster secret nor users are
 * configured; otherwise `peer` needs a member and `admin` a member or an admin user.
 */
export function refusalOf(
  command: RoutedCommand,
  identity: Identity,
  configured: { readonly secret: boolean; readonly users: boolean },
): string | undefined {
  if (identity?.kind === 'member') return undefined;
  const { scope, access = Access.write } = command.spec;
  const user = identity?.user;
  if (scope === Scope.client) {
    if (!configured.users || access === Access.open) return undefined;
    if (user === undefined) return NOAUTH_CLIENT;
    if (access === Access.write && user.permission === Permission.readOnly)
      return noPermission(user, command);
    return undefined;
  }
  if (!configured.secret && !configured.users) return undefined;
  if (scope === Scope.admin && user?.permission === Permission.admin) return undefined;
  if (user !== undefined) return noPermission(user, command);
  return `${ErrorCode.NOAUTH} '${command.name}' is for cluster members: authenticate with the cluster secret first (AUTH_CHALLENGE, then AUTH_MEMBER)`;
}

function noPermission(user: User, command: RoutedCommand): string {
  return `${ErrorCode.NOPERM} User ${user.name} has no permissions to run the '${command.name.toLowerCase()}' command`;
}

/**
 * Authentication and authorisation of one server's connections: a router hook that checks
 * each command against the connection's identity, and the state `AUTH`, `AUTH_CHALLENGE`
 * and `AUTH_MEMBER` ({@link AUTH_COMMANDS}) change. Nothing is checked while neither a
 * cluster secret nor users are configured.
 */
export class AccessControl {
  private readonly secret: Buffer | undefined;
  private readonly users: UserTable | undefined;
  private readonly configured: { readonly secret: boolean; readonly users: boolean };
  private readonly connections = new WeakMap<ServerConnection, ConnectionState>();

  constructor(private readonly options: AccessControlOptions = {}) {
    this.secret = options.clusterSecret;
    this.users = options.users !== undefined && options.users.size > 0 ? options.users : undefined;
    this.configured = { secret: this.secret !== undefined, users: this.users !== undefined };
  }

  /** Whether a cluster secret is configured. */
  get membersAuthenticate(): boolean {
    return this.configured.secret;
  }

  /** Whether users are configured. */
  get clientsAuthenticate(): boolean {
    return this.configured.users;
  }

  /** The router hook: throws the refusal (`NOAUTH`, `NOPERM`) of a command not allowed. */
  readonly hook: CommandHook = (command, _args, connection) => {
    if (!this.configured.secret && !this.configured.users) return;
    const refusal = refusalOf(command, this.connections.get(connection)?.identity, this.configured);
    if (refusal !== undefined) throw new ReplyError(refusal);
  };

  /** Who `connection` has proven to be. */
  identityOf(connection: ServerConnection): Identity {
    return this.connections.get(connection)?.identity;
  }

  /** `AUTH [user] password`: authenticates as a configured user. */
  authenticateUser(connection: ServerConnection, name: string, password: Buffer): void {
    if (this.users === undefined) {
      throw new ReplyError(
        `${ErrorCode.ERR} AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?`,
      );
    }
    const user = this.users.verify(name, password);
    if (user === undefined) {
      this.options.onFailure?.('password', connection);
      throw new ReplyError(WRONGPASS);
    }
    this.state(connection).identity = { kind: 'user', user };
  }

  /** `AUTH_CHALLENGE`: a fresh nonce for this connection, replacing any earlier one. */
  challenge(connection: ServerConnection): string {
    if (this.secret === undefined) throw noSecret();
    const nonce = createNonce(this.options.random);
    this.state(connection).nonce = nonce;
    return nonce;
  }

  /**
   * `AUTH_MEMBER proof`: checks the proof against this connection's nonce, which is used
   * up either way, so a proof is good once, on the connection it was made for.
   */
  authenticateMember(connection: ServerConnection, proof: Buffer): void {
    if (this.secret === undefined) throw noSecret();
    const state = this.state(connection);
    const nonce = state.nonce;
    state.nonce = undefined;
    if (nonce === undefined)
      throw new ReplyError(
        `${ErrorCode.NOAUTH} no challenge pending on this connection: send AUTH_CHALLENGE first`,
      );
    if (!verifyMemberProof(this.secret, nonce, proof)) {
      this.options.onFailure?.('member', connection);
      throw new ReplyError(
        `${ErrorCode.NOAUTH} member proof does not match: check that every process has the same cluster secret`,
      );
    }
    state.identity = { kind: 'member' };
  }

  private state(connection: ServerConnection): ConnectionState {
    let state = this.connections.get(connection);
    if (state === undefined) {
      state = { identity: undefined, nonce: undefined };
      this.connections.set(connection, state);
    }
    return state;
  }
}

function noSecret(): ReplyError {
  return new ReplyError(
    `${ErrorCode.ERR} no cluster secret is configured on this server: members need not authenticate`,
  );
}

/** What the authentication commands need from the server running them. */
export interface AuthContext {
  readonly access: AccessControl;
}

/**
 * The authentication commands, for every server's table: `AUTH` as Redis clients send it,
 * and the member challenge. All are `open`: they run before authentication.
 */
export const AUTH_COMMANDS = {
  AUTH: {
    scope: Scope.client,
    access: Access.open,
    arity: [1, 2],
    usage: 'AUTH [username] password',
    reply: '`+OK`: the connection runs as that user (`default` when no username is given)',
    errors:
      '`-WRONGPASS invalid username-password pair or user is disabled.` (counted in INFO and metrics); `-ERR AUTH <password> called without any password configured ...` when no users are configured',
    run(args, context, connection) {
      const [name, password] =
        args.length === 2
          ? [DEFAULT_USER, args[1] as Buffer]
          : [(args[1] as Buffer).toString('utf8'), args[2] as Buffer];
      context.access.authenticateUser(connection, name, password);
      return OK;
    },
  },
  AUTH_CHALLENGE: {
    scope: Scope.client,
    access: Access.open,
    arity: [0, 0],
    usage: 'AUTH_CHALLENGE',
    reply:
      'bulk: a fresh nonce (64 hex digits) for this connection, replacing any earlier one; answer it with `AUTH_MEMBER`',
    errors: '`-ERR no cluster secret is configured ...`',
    run: (_args, context, connection) => context.access.challenge(connection),
  },
  AUTH_MEMBER: {
    scope: Scope.client,
    access: Access.open,
    arity: [1, 1],
    usage: 'AUTH_MEMBER proof',
    reply:
      '`+OK`: the connection is a member and may send every command; the proof is hex HMAC-SHA256(cluster secret, `kv-member-auth-v1\\n` + nonce)',
    errors:
      '`-NOAUTH no challenge pending ...` (each nonce answers once); `-NOAUTH member proof does not match ...`; `-ERR no cluster secret is configured ...`',
    run(args, context, connection) {
      context.access.authenticateMember(connection, args[1] as Buffer);
      return OK;
    },
  },
} as const satisfies CommandTable<AuthContext>;
