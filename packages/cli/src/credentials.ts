import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { readClusterSecret, type Credentials } from '@kv/protocol';
import { UsageError } from './errors';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Where `kv cluster` keeps the cluster secret it generates, and where the other commands
 * look for one when neither `--cluster-secret-file` nor `KV_CLUSTER_SECRET` is given:
 * `KV_CLUSTER_SECRET_FILE`, else `~/.kv/cluster.secret`.
 */
export function defaultSecretFile(env: Env, home: () => string = homedir): string {
  const fromEnv = env['KV_CLUSTER_SECRET_FILE'];
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : join(home(), '.kv', 'cluster.secret');
}

function given(value: unknown): string | undefined {
  return value === undefined || value === '' ? undefined : String(value);
}

/**
 * What the commands authenticate with: `--user`/`--password` (`KV_USER`/`KV_PASSWORD`)
 * when a password is given; otherwise the cluster secret, from `--cluster-secret-file`,
 * `KV_CLUSTER_SECRET`, or the {@link defaultSecretFile} if it exists; otherwise nothing.
 *
 * @throws {@link UsageError} for a user without a password, or a secret file that cannot
 *   be read or is too short
 */
export function findCredentials(
  args: { readonly user?: unknown; readonly password?: unknown; readonly secretFile?: unknown },
  env: Env,
  home: () => string = homedir,
): Credentials {
  const user = given(args.user) ?? given(env['KV_USER']);
  const password = given(args.password) ?? given(env['KV_PASSWORD']);
  if (password !== undefined) return { user, password };
  if (user !== undefined)
    throw new UsageError('--user needs a password: --password or KV_PASSWORD');
  try {
    const file = given(args.secretFile);
    if (file !== undefined) return { clusterSecret: readClusterSecret(file) };
    const secret = given(env['KV_CLUSTER_SECRET']);
    if (secret !== undefined) return { clusterSecret: Buffer.from(secret.trim()) };
    const fallback = defaultSecretFile(env, home);
    if (existsSync(fallback)) return { clusterSecret: readClusterSecret(fallback) };
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  return {};
}

/**
 * The secret file `kv cluster` runs its processes with: `path` as it is if it exists,
 * else created with 32 random bytes (as 64 hex digits), readable by its owner only
 * (mode 0600, in a directory created 0700).
 *
 * @returns whether the file was created
 */
export function ensureSecretFile(path: string): boolean {
  if (existsSync(path)) {
    readClusterSecret(path);
    return false;
  }
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  // The mode given to writeFileSync is filtered by the umask; 0600 is meant exactly.
  chmodSync(path, 0o600);
  return true;
}
