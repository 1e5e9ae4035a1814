import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createDevCertificates, devCertificatePaths, type DevCertificates } from '@kv/protocol';

/**
 * The development CA and certificates in `dir`: the ones already there are kept (unless
 * they expire within a day), so clients configured with its CA go on working across
 * restarts; otherwise new ones are made. Says which on `stdout`.
 */
export async function devCertificatesIn(
  dir: string,
  stdout: NodeJS.WritableStream,
): Promise<DevCertificates> {
  const files = devCertificatePaths(dir);
  const kept = Object.values(files).every((path) => existsSync(path)) && !expiresSoon(files);
  const certificates = kept ? files : await createDevCertificates(dir);
  stdout.write(
    `[Cluster] TLS: ${kept ? 'using the' : 'made a'} development CA and certificates in ${dir}\n`,
  );
  return certificates;
}

/** The flags that give a server the cluster's certificates. */
export function tlsArgs(files: DevCertificates | undefined): string[] {
  if (!files) return [];
  return ['--tls-cert', files.cert, '--tls-key', files.key, '--tls-ca', files.ca];
}

/** Whether the member or client certificate of `files` expires within a day (or cannot be read). */
function expiresSoon(files: DevCertificates): boolean {
  try {
    const dayFromNow = Date.now() + 86_400_000;
    return [files.cert, files.clientCert, files.ca].some(
      (path) => Date.parse(new X509Certificate(readFileSync(path)).validTo) < dayFromNow,
    );
  } catch {
    return true;
  }
}
