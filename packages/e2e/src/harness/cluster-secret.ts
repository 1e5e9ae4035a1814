import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memberHandshake, readClusterSecret, type Handshake } from '@kv/protocol';

let secretFile: string | undefined;

/**
 * The cluster secret file every cluster of this test process runs with, so members
 * authenticate to each other as in production; created once (mode 0600), removed on exit,
 * and named in `KV_CLUSTER_SECRET_FILE` for every process the tests start (see childEnv).
 */
export function clusterSecretFile(): string {
  if (secretFile === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'kv-e2e-secret-'));
    const file = join(dir, 'cluster.secret');
    writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600 });
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    secretFile = file;
  }
  return secretFile;
}

let handshake: Handshake | undefined;

/**
 * How the suite's own connections authenticate: as members, with the clusters' secret, so
 * they may also look inside nodes (`FETCH`) as an operator's tool does.
 */
export function memberAuth(): Handshake {
  handshake ??= memberHandshake(readClusterSecret(clusterSecretFile()));
  return handshake;
}
