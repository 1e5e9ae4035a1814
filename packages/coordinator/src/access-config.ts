import { isLoopbackHost, loadAccessSettings, type AccessSettings } from '@kv/protocol';
import type { CoordinatorConfig } from './config';
import { ConfigError } from './errors';

/**
 * Reads the cluster secret and users the configuration and environment point to
 * (`KV_CLUSTER_SECRET`, `KV_PASSWORD`).
 * @throws {@link ConfigError} for an unreadable file, a short secret or a bad users file
 */
export function loadAccess(
  config: Pick<CoordinatorConfig, 'clusterSecretFile' | 'usersFile'>,
  env: Readonly<Record<string, string | undefined>> = {},
): AccessSettings {
  try {
    return loadAccessSettings({
      clusterSecretFile: config.clusterSecretFile,
      clusterSecret: env['KV_CLUSTER_SECRET'],
      usersFile: config.usersFile,
      password: env['KV_PASSWORD'],
    });
  } catch (err) {
    throw new ConfigError((err as Error).message, undefined, { cause: err });
  }
}

/**
 * Why the coordinator may not listen on `host`, or undefined: protected mode, as in Redis.
 * Without a cluster secret or TLS anyone who reaches the port could register, heartbeat for or
 * remove members, so only a loopback address is allowed unless `insecure` is set.
 */
export function protectedModeRefusal(options: {
  readonly host: string;
  readonly clusterSecret?: Buffer;
  readonly tlsCert?: string;
  readonly insecure: boolean;
}): string | undefined {
  if (
    options.clusterSecret !== undefined ||
    options.tlsCert !== undefined ||
    options.insecure ||
    isLoopbackHost(options.host)
  )
    return undefined;
  return `protected mode: refusing to listen on ${options.host} without a cluster secret or TLS, as anyone who reaches it could change the membership; give --cluster-secret-file (or KV_CLUSTER_SECRET) or --tls-cert/--tls-key, listen on 127.0.0.1, or pass --insecure to accept the risk`;
}
