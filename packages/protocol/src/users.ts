import { createHash, timingSafeEqual } from 'node:crypto';
import { InvalidUsersError } from './errors';

/**
 * What a user may do: `read-only` runs the `client` commands declared `read`; `read-write`
 * every `client` command; `admin` also the `admin` commands (membership, decommission).
 * Only members (holders of the cluster secret) run `peer` commands.
 */
export const Permission = {
  readOnly: 'read-only',
  readWrite: 'read-write',
  admin: 'admin',
} as const;

/** One of the {@link Permission} values. */
export type Permission = (typeof Permission)[keyof typeof Permission];

const PERMISSIONS: readonly string[] = Object.values(Permission);

/** The user `AUTH password` (one argument) authenticates as, as in Redis. */
export const DEFAULT_USER = 'default';

/** A configured user. */
export interface User {
  readonly name: string;
  readonly permission: Permission;
  /** SHA-256 of the password. */
  readonly passwordHash: Buffer;
}

/** SHA-256 of a password, the form users files may hold (`#<hex>`). */
export function hashPassword(password: string | Buffer): Buffer {
  return createHash('sha256').update(password).digest();
}

const NAME = /^[\x21-\x7e]{1,128}$/;
const HEX_HASH = /^[0-9a-fA-F]{64}$/;

function passwordHashOf(spec: string, where: string): Buffer {
  if (spec.startsWith('>')) {
    if (spec.length === 1) throw new InvalidUsersError(`${where}: the password after '>' is empty`);
    return hashPassword(spec.slice(1));
  }
  if (spec.startsWith('#')) {
    const hex = spec.slice(1);
    if (!HEX_HASH.test(hex))
      throw new InvalidUsersError(
        `${where}: '#' must be followed by the 64 hex digits of the password's SHA-256`,
      );
    return Buffer.from(hex, 'hex');
  }
  throw new InvalidUsersError(
    `${where}: the password must start with '>' (the password itself) or '#' (its SHA-256 in hex)`,
  );
}

/**
 * Reads a users file: one user per line, `name permission password`, where the permission
 * is `read-only`, `read-write` or `admin` and the password is `>` followed by the password
 * (the rest of the line, spaces included) or `#` followed by its SHA-256 in hex. Blank
 * lines and lines starting with `#` are ignored.
 *
 * @param source - how the file is named in errors
 * @throws {@link InvalidUsersError} naming the line for a malformed line or a user named twice
 */
export function parseUsers(text: string, source = 'users file'): User[] {
  const users: User[] = [];
  const seen = new Set<string>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === '' || line.startsWith('#')) continue;
    const where = `${source} line ${i + 1}`;
    const match = /^(\S+)\s+(\S+)\s+(.+)$/.exec(line);
    if (!match)
      throw new InvalidUsersError(`${where}: expected 'name permission password', got 3 words`);
    const [, name, permission, password] = match as unknown as [string, string, string, string];
    if (!NAME.test(name))
      throw new InvalidUsersError(`${where}: a user name is 1 to 128 printable characters`);
    if (!PERMISSIONS.includes(permission))
      throw new InvalidUsersError(
        `${where}: permission must be one of ${PERMISSIONS.join(', ')}, got '${permission}'`,
      );
    if (seen.has(name)) throw new InvalidUsersError(`${where}: user '${name}' is named twice`);
    seen.add(name);
    users.push({
      name,
      permission: permission as Permission,
      passwordHash: passwordHashOf(password, where),
    });
  }
  return users;
}

/** Stands in for an unknown user, so a wrong name costs the same time as a wrong password. */
const NOBODY = hashPassword('');

/** The configured users, by name. */
export class UserTable {
  private readonly users = new Map<string, User>();

  /** @throws {@link InvalidUsersError} when a name comes twice */
  constructor(users: Iterable<User>) {
    for (const user of users) {
      if (this.users.has(user.name))
        throw new InvalidUsersError(`user '${user.name}' is configured twice`);
      this.users.set(user.name, user);
    }
  }

  /** Number of users. */
  get size(): number {
    return this.users.size;
  }

  /** The user `name` if `password` is theirs, else undefined (unknown name included). */
  verify(name: string, password: Buffer | string): User | undefined {
    const user = this.users.get(name);
    const given = hashPassword(password);
    const matches = timingSafeEqual(given, user?.passwordHash ?? NOBODY);
    return user !== undefined && matches ? user : undefined;
  }
}
