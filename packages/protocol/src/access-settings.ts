import { readFileSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import { InvalidSecretError, InvalidUsersError } from './errors';
import { MIN_SECRET_BYTES } from './member-auth';
import { DEFAULT_USER, Permission, UserTable, hashPassword, parseUsers, type User } from './users';

/** Where a server's secret and users come from, as its flags and environment name them. */
export interface AccessSources {
  /** `--cluster-secret-file`: a file holding the cluster secret. Wins over `clusterSecret`. */
  readonly clusterSecretFile?: string;
  /** `KV_CLUSTER_SECRET`: the cluster secret itself. */
  readonly clusterSecret?: string;
  /** `--users-file`: one user per line (see `parseUsers`). */
  readonly usersFile?: string;
  /** `KV_PASSWORD`: the password of the user `default` (read-write), as Redis's `requirepass`. */
  readonly password?: string;
}

/** What a server authenticates with; see `AccessControlOptions`. */
export interface AccessSettings {
  readonly clusterSecret?: Buffer;
  readonly users?: UserTable;
}

function checkSecret(secret: Buffer, source: string): Buffer {
  if (secret.length < MIN_SECRET_BYTES)
    throw new InvalidSecretError(
      `the cluster secret from ${source} has ${secret.length} bytes, fewer than ${MIN_SECRET_BYTES}: use a long random one, e.g. \`openssl rand -hex 32\``,
    );
  return secret;
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new InvalidSecretError(`cannot read the ${what} ${path} (${code})`, { cause: err });
  }
}

/**
 * Reads a cluster secret file: its content without surrounding white space (a trailing
 * newline is not part of the secret).
 * @throws {@link InvalidSecretError} for a file that cannot be read or a secret under 16 bytes
 */
export function readClusterSecret(path: string): Buffer {
  return checkSecret(Buffer.from(readText(path, 'cluster secret file').trim()), path);
}

/**
 * Loads the cluster secret and the users from where the operator put them.
 * @throws {@link InvalidSecretError} for an unreadable file or a short secret;
 *   {@link InvalidUsersError} for a malformed users file, a `default` user given twice,
 *   or users without a cluster secret (the members could not authenticate to each other)
 */
export function loadAccessSettings(sources: AccessSources): AccessSettings {
  let clusterSecret: Buffer | undefined;
  if (sources.clusterSecretFile !== undefined)
    clusterSecret = readClusterSecret(sources.clusterSecretFile);
  else if (sources.clusterSecret !== undefined && sources.clusterSecret !== '')
    clusterSecret = checkSecret(Buffer.from(sources.clusterSecret.trim()), 'KV_CLUSTER_SECRET');
  const users: User[] = [];
  if (sources.usersFile !== undefined)
    users.push(...parseUsers(readText(sources.usersFile, 'users file'), sources.usersFile));
  if (sources.password !== undefined && sources.password !== '') {
    if (users.some((u) => u.name === DEFAULT_USER))
      throw new InvalidUsersError(
        `KV_PASSWORD sets the password of the user '${DEFAULT_USER}', which ${sources.usersFile} also defines: keep one`,
      );
    users.push({
      name: DEFAULT_USER,
      permission: Permission.readWrite,
      passwordHash: hashPassword(sources.password),
    });
  }
  const settings = { clusterSecret, users: users.length > 0 ? new UserTable(users) : undefined };
  const problem = accessSettingsProblem(settings);
  if (problem !== undefined) throw new InvalidUsersError(problem);
  return settings;
}

/**
 * What is wrong with `settings`, or undefined: users need a cluster secret, as without
 * one the members could not authenticate to each other.
 */
export function accessSettingsProblem(settings: AccessSettings): string | undefined {
  if (settings.users === undefined || settings.users.size === 0) return undefined;
  if (settings.clusterSecret !== undefined) return undefined;
  return 'users are configured but no cluster secret (--cluster-secret-file or KV_CLUSTER_SECRET): nodes and the coordinator would have no way to authenticate to each other';
}

/**
 * Whether `host` is a loopback address (`localhost`, 127.0.0.0/8, `::1`), reachable from
 * this machine only.
 */
export function isLoopbackHost(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (bare.toLowerCase() === 'localhost') return true;
  const v4 = bare.toLowerCase().startsWith('::ffff:') ? bare.slice(7) : bare;
  if (isIPv4(v4)) return v4.startsWith('127.');
  return isIPv6(bare) && /^(0{0,4}:){1,7}0{0,3}1$|^::1$/.test(bare);
}
