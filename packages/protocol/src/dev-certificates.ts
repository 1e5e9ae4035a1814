import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { TlsConfigError } from './errors';

/** Paths of the files {@link createDevCertificates} writes. */
export interface DevCertificates {
  /** The folder holding them. */
  readonly dir: string;
  /** The CA's certificate: what clients and members trust (`--tls-ca`). */
  readonly ca: string;
  /** The CA's private key (0600). */
  readonly caKey: string;
  /**
   * A member certificate (coordinator and nodes), good as a server and as a client
   * certificate, naming every host given.
   */
  readonly cert: string;
  /** Its private key (0600). */
  readonly key: string;
  /** A client-only certificate, for clients of a cluster that requires them. */
  readonly clientCert: string;
  /** Its private key (0600). */
  readonly clientKey: string;
}

/** Options of {@link createDevCertificates}. */
export interface DevCertificateOptions {
  /**
   * Host names and IP addresses the member certificate is valid for.
   * @default ['127.0.0.1', '::1', 'localhost']
   */
  readonly hosts?: readonly string[];
  /**
   * Days every certificate is valid.
   * @default 30
   */
  readonly days?: number;
  /**
   * The openssl command.
   * @default 'openssl'
   */
  readonly openssl?: string;
}

/** openssl could not be run: it is missing, or it failed. */
export class OpensslError extends TlsConfigError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'OpensslError';
  }
}

const CURVE = 'prime256v1';

function run(openssl: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(openssl, args, { timeout: 30_000 }, (err, _stdout, stderr) => {
      if (!err) {
        resolve();
      } else if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(
          new OpensslError(
            `making TLS certificates needs the '${openssl}' command, which was not found: install OpenSSL (e.g. apt-get install openssl) or make the certificates yourself (docs/tls.md)`,
            { cause: err },
          ),
        );
      } else {
        const detail = String(stderr).trim().split('\n').slice(-3).join('; ');
        reject(
          new OpensslError(`${openssl} ${args[0]} failed: ${detail || err.message}`, {
            cause: err,
          }),
        );
      }
    });
  });
}

/** A new P-256 private key in `path`, readable by its owner only from the moment it exists. */
async function writeKey(path: string): Promise<void> {
  const { privateKey } = generateKeyPairSync('ec', {
    namedCurve: CURVE,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  await rm(path, { force: true });
  await writeFile(path, privateKey, { mode: 0o600 });
  await chmod(path, 0o600);
}

function subjectAltNames(hosts: readonly string[]): string {
  return hosts.map((h) => (isIP(h) ? `IP:${h}` : `DNS:${h}`)).join(', ');
}

/** Where {@link createDevCertificates} writes its files in `dir`. */
export function devCertificatePaths(dir: string): DevCertificates {
  return {
    dir,
    ca: join(dir, 'ca.pem'),
    caKey: join(dir, 'ca.key'),
    cert: join(dir, 'member.pem'),
    key: join(dir, 'member.key'),
    clientCert: join(dir, 'client.pem'),
    clientKey: join(dir, 'client.key'),
  };
}

/**
 * Makes a throwaway certificate authority and certificates signed by it, for development
 * and tests: never for production, where certificates come from the organisation's CA.
 * Keys are P-256, made in-process and written 0600; Node.js cannot sign X.509 certificates,
 * so the signing runs the `openssl` command (OpenSSL 1.1.1 or later). Each call makes a new,
 * unrelated CA. Files: `ca.pem`, `ca.key`, `member.pem`, `member.key`, `client.pem`,
 * `client.key` in `dir` (created 0700 if missing; existing files are replaced).
 *
 * @throws {@link OpensslError} when openssl is missing or fails
 */
export async function createDevCertificates(
  dir: string,
  options: DevCertificateOptions = {},
): Promise<DevCertificates> {
  const openssl = options.openssl ?? 'openssl';
  const days = String(options.days ?? 30);
  const hosts = options.hosts ?? ['127.0.0.1', '::1', 'localhost'];
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const files = devCertificatePaths(dir);
  // One CA name per call, so that two development CAs are never mistaken for each other.
  const id = randomBytes(4).toString('hex');
  const config = join(dir, 'openssl.cnf');
  await writeFile(
    config,
    [
      '[req]',
      'distinguished_name = dn',
      'prompt = no',
      '[dn]',
      `CN = kv development CA ${id}`,
      '[ca_ext]',
      'basicConstraints = critical, CA:TRUE',
      'keyUsage = critical, keyCertSign, cRLSign',
      'subjectKeyIdentifier = hash',
      '[member_ext]',
      'basicConstraints = critical, CA:FALSE',
      'keyUsage = critical, digitalSignature',
      'extendedKeyUsage = serverAuth, clientAuth',
      `subjectAltName = ${subjectAltNames(hosts)}`,
      'authorityKeyIdentifier = keyid',
      '[client_ext]',
      'basicConstraints = critical, CA:FALSE',
      'keyUsage = critical, digitalSignature',
      'extendedKeyUsage = clientAuth',
      'authorityKeyIdentifier = keyid',
      '',
    ].join('\n'),
  );
  await writeKey(files.caKey);
  await run(openssl, [
    'req',
    ...['-config', config, '-x509', '-new', '-key', files.caKey, '-sha256', '-days', days],
    ...['-extensions', 'ca_ext', '-out', files.ca],
  ]);
  const leaves = [
    { cert: files.cert, key: files.key, ext: 'member_ext', cn: `kv member ${id}` },
    { cert: files.clientCert, key: files.clientKey, ext: 'client_ext', cn: `kv client ${id}` },
  ];
  for (const leaf of leaves) {
    const csr = `${leaf.cert}.csr`;
    await writeKey(leaf.key);
    await run(openssl, [
      'req',
      ...['-config', config, '-new', '-key', leaf.key, '-subj', `/CN=${leaf.cn}`, '-out', csr],
    ]);
    await run(openssl, [
      'x509',
      ...['-req', '-in', csr, '-CA', files.ca, '-CAkey', files.caKey, '-sha256', '-days', days],
      ...['-set_serial', `0x${randomBytes(8).toString('hex')}`],
      ...['-extfile', config, '-extensions', leaf.ext, '-out', leaf.cert],
    ]);
    await rm(csr, { force: true });
  }
  await rm(config, { force: true });
  return files;
}
