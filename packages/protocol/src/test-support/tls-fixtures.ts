import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDevCertificates, type DevCertificates } from '../dev-certificates';

/** The PEM text of one development CA's files. */
export interface Pki {
  readonly files: DevCertificates;
  readonly ca: Buffer;
  /** Member certificate (server and client use) for 127.0.0.1, ::1 and localhost. */
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly clientCert: Buffer;
  readonly clientKey: Buffer;
}

/** Two unrelated CAs, each with its certificates, in a temp folder removed by `remove`. */
export interface TlsFixtures {
  readonly cluster: Pki;
  /** Another CA: what it signs must be refused wherever `cluster`'s CA is expected. */
  readonly other: Pki;
  remove(): Promise<void>;
}

function read(files: DevCertificates): Pki {
  return {
    files,
    ca: readFileSync(files.ca),
    cert: readFileSync(files.cert),
    key: readFileSync(files.key),
    clientCert: readFileSync(files.clientCert),
    clientKey: readFileSync(files.clientKey),
  };
}

/** Makes {@link TlsFixtures} with openssl (call in `beforeAll`, `remove` in `afterAll`). */
export async function makeTlsFixtures(): Promise<TlsFixtures> {
  const dir = await mkdtemp(join(tmpdir(), 'kv-tls-'));
  const [cluster, other] = await Promise.all([
    createDevCertificates(join(dir, 'cluster')),
    createDevCertificates(join(dir, 'other')),
  ]);
  return {
    cluster: read(cluster),
    other: read(other),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
