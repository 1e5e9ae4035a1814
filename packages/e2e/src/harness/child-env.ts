import { clusterSecretFile } from './cluster-secret';

/**
 * The environment for processes the suite starts: this one without `KV_*` settings (a
 * developer's `KV_PORT` must not leak into a test) and without `NODE_OPTIONS` (a debugger
 * flag would make every child fight for the same inspector port), but with the suite's
 * cluster secret file, so `kv` commands and `kv cluster` never use the user's ~/.kv.
 */
export function childEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('KV_') && name !== 'NODE_OPTIONS') env[name] = value;
  }
  return { ...env, KV_CLUSTER_SECRET_FILE: clusterSecretFile(), ...extra };
}
