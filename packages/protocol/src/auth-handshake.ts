import type { RespConnection } from './connection';
import { ErrorCode, ReplyError } from './errors';
import { memberProof } from './member-auth';

/**
 * Runs on a new connection before it is handed out: authenticates it. Rejects with the
 * server's {@link ReplyError} when refused; the connection is then closed.
 */
export type Handshake = (connection: RespConnection) => Promise<void>;

/** What an outgoing connection authenticates with. */
export interface Credentials {
  /** The cluster secret: the connection answers the member challenge and may send anything. */
  readonly clusterSecret?: Buffer;
  /** A user's name for `AUTH`; `default` when only a password is given. */
  readonly user?: string;
  /** A user's password for `AUTH`. */
  readonly password?: string;
}

/**
 * Answers the member challenge: `AUTH_CHALLENGE`, then `AUTH_MEMBER <proof>`. A server with
 * no cluster secret answers that it has none; the connection is then left as it is (that
 * server asks no member to authenticate).
 */
export function memberHandshake(secret: Buffer): Handshake {
  return async (connection) => {
    let nonce;
    try {
      nonce = await connection.send(['AUTH_CHALLENGE']);
    } catch (err) {
      if (isNotConfigured(err, /no cluster secret is configured/)) return;
      throw err;
    }
    if (!Buffer.isBuffer(nonce))
      throw new ReplyError(`${ErrorCode.ERR} AUTH_CHALLENGE answered no nonce`);
    await connection.send(['AUTH_MEMBER', memberProof(secret, nonce.toString('latin1'))]);
  };
}

/**
 * Sends `AUTH [user] password`. A server with no users configured answers that no password
 * is set; the connection is then left as it is (it needs none), as Redis clients do.
 */
export function userHandshake(password: string, user?: string): Handshake {
  return async (connection) => {
    try {
      await connection.send(user === undefined ? ['AUTH', password] : ['AUTH', user, password]);
    } catch (err) {
      if (isNotConfigured(err, /without any password configured/)) return;
      throw err;
    }
  };
}

/**
 * The handshake for `credentials`: the member challenge when a cluster secret is given
 * (members may send every command), else `AUTH` when a password is, else none.
 */
export function handshakeFor(credentials: Credentials): Handshake | undefined {
  if (credentials.clusterSecret !== undefined) return memberHandshake(credentials.clusterSecret);
  if (credentials.password !== undefined)
    return userHandshake(credentials.password, credentials.user);
  return undefined;
}

/** Whether `err` is a server's `-ERR` saying it has nothing of the kind configured. */
function isNotConfigured(err: unknown, saying: RegExp): boolean {
  return err instanceof ReplyError && err.code === ErrorCode.ERR && saying.test(err.message);
}
