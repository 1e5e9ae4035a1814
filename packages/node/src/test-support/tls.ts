import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDevCertificates, type DevCertificates } from '@kv/protocol';

/** The cluster's CA and certificates, and an unrelated CA's, in a temp folder. */
export interface TestPki {
  readonly cluster: DevCertificates;
  readonly other: DevCertificates;
  remove(): Promise<void>;
}

/** Makes a {@link TestPki} with openssl (in `beforeAll`; `remove` in `afterAll`). */
export async function makeTestPki(): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), 'kv-node-tls-'));
  const [cluster, other] = await Promise.all([
    createDevCertificates(join(dir, 'cluster')),
    createDevCertificates(join(dir, 'other')),
  ]);
  return { cluster, other, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** A storage node's (or coordinator's) TLS options from a CA's files. */
export function memberTls(
  files: DevCertificates,
  ca: DevCertificates = files,
  clientCerts = false,
): { tlsCert: string; tlsKey: string; tlsCa: string; tlsClientCerts: boolean } {
  return { tlsCert: files.cert, tlsKey: files.key, tlsCa: ca.ca, tlsClientCerts: clientCerts };
}
