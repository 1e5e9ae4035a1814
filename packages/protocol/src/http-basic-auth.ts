import type { User, UserTable } from './users';

/** The challenge a 401 carries, so browsers ask for a user and password. */
export const BASIC_CHALLENGE = 'Basic realm="kv", charset="UTF-8"';

/** What {@link checkBasicAuth} found in a request's `Authorization` header. */
export type BasicAuthResult =
  | { readonly ok: true; readonly user: User }
  /** `user` is the name given, when the header held one. */
  | { readonly ok: false; readonly user: string | undefined; readonly reason: string };

/**
 * Checks HTTP Basic credentials (RFC 7617) against `users`. Every configured user passes,
 * whatever its permission: what is behind them is read-only. The password is checked by
 * {@link UserTable.verify}, which costs the same for an unknown user as for a wrong password.
 *
 * @param header - the request's `Authorization` header, if it had one
 */
export function checkBasicAuth(header: string | undefined, users: UserTable): BasicAuthResult {
  if (header === undefined) return { ok: false, user: undefined, reason: 'no credentials' };
  const match = /^basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!match) return { ok: false, user: undefined, reason: 'not Basic credentials' };
  const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return { ok: false, user: undefined, reason: 'credentials without a colon' };
  const name = decoded.slice(0, colon);
  const user = users.verify(name, decoded.slice(colon + 1));
  return user === undefined
    ? { ok: false, user: name, reason: 'wrong user or password' }
    : { ok: true, user };
}
