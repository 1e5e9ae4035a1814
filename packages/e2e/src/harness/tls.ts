import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDevCertificates, type DevCertificates, type TlsClientOptions } from '@kv/protocol';

/** The cluster's development CA and certificates, and an unrelated CA's. */
export interface TestCertificates {
  readonly cluster: DevCertificates;
  readonly other: DevCertificates;
  /** Removes their folder. */
  remove(): Promise<void>;
}

/** Makes {@link TestCertificates} with openssl, in a temp folder. */
export async function makeTestCertificates(): Promise<TestCertificates> {
  const dir = await mkdtemp(join(tmpdir(), 'kv-e2e-tls-'));
  const [cluster, other] = await Promise.all([
    createDevCertificates(join(dir, 'cluster')),
    createDevCertificates(join(dir, 'other')),
  ]);
  return { cluster, other, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** `@kv/client`'s `tls` option with a CA's client certificate. */
export function clientTls(files: DevCertificates): TlsClientOptions {
  return {
    ca: readFileSync(files.ca),
    cert: readFileSync(files.clientCert),
    key: readFileSync(files.clientKey),
  };
}

/** The `kv` flags for the same. */
export function kvTlsFlags(files: DevCertificates): string[] {
  return ['--tls-ca', files.ca, '--tls-cert', files.clientCert, '--tls-key', files.clientKey];
}
