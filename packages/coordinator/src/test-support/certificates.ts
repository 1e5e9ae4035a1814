import { createDevCertificates, type DevCertificates } from '@kv/protocol';
import { tempDir } from './coordinator-harness';

/** The cluster's certificates and an outsider's (signed by another CA), in a temp dir. */
export async function clusterAndOutsider(): Promise<[DevCertificates, DevCertificates]> {
  const dir = await tempDir();
  return Promise.all([
    createDevCertificates(`${dir}/cluster`),
    createDevCertificates(`${dir}/other`),
  ]);
}
