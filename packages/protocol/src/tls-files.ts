import { readFileSync } from 'node:fs';
import { ClientCertificateError, TlsConfigError } from './errors';
import {
  secureContext,
  TLS_DEFAULTS,
  type TlsClientOptions,
  type TlsServerOptions,
} from './transport';

/**
 * The TLS settings of a server as flags and `KV_TLS_*` variables give them: file paths. The
 * coordinator and the storage node read them with {@link loadServerTls}.
 */
export interface TlsFileSettings {
  /** PEM file of the certificate chain (`--tls-cert`). */
  readonly tlsCert?: string | undefined;
  /** PEM file of its private key (`--tls-key`). */
  readonly tlsKey?: string | undefined;
  /** PEM file of the CA(s) that sign the cluster's certificates (`--tls-ca`). */
  readonly tlsCa?: string | undefined;
  /** Mutual TLS: every peer must present a certificate signed by `tlsCa` (`--tls-client-certs`). */
  readonly tlsClientCerts?: boolean | undefined;
  /** Cut off a peer that has not finished its handshake after this many ms (`--tls-handshake-timeout`). */
  readonly tlsHandshakeTimeoutMs?: number | undefined;
}

/**
 * A server's TLS, read from its files: the listener's options ({@link listenTls}) and, for a
 * storage node, those of its own connections to other members ({@link connectTls}) — the
 * same certificate is its client certificate, the same CA verifies the members it dials.
 */
export interface ServerTls extends TlsServerOptions, TlsClientOptions {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer | undefined;
  readonly requestCert: boolean;
  readonly handshakeTimeoutMs: number;
}

/** PEM paths for a client, as the `kv` flags `--tls-ca`, `--tls-cert`, `--tls-key` give them. */
export interface TlsClientFiles {
  readonly ca?: string | undefined;
  readonly cert?: string | undefined;
  readonly key?: string | undefined;
}

/**
 * Reads a PEM file.
 * @throws {@link TlsConfigError} naming `flag` and the reason (`ENOENT`, `EACCES`, ...)
 */
export function readPemFile(path: string, flag: string): Buffer {
  let pem: Buffer;
  try {
    pem = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new TlsConfigError(`cannot read ${flag} ${path} (${code})`, { cause: err });
  }
  if (!pem.includes('-----BEGIN ')) throw new TlsConfigError(`${flag} ${path} is not a PEM file`);
  return pem;
}

/**
 * Reads a server's TLS files and checks that they make a working pair; undefined when none
 * is set (TLS off).
 * @throws {@link TlsConfigError} when a file cannot be read or parsed, the key does not match
 *   the certificate, a certificate is given without its key (or the reverse), a CA alone, or
 *   client certificates without a CA
 */
export function loadServerTls(settings: TlsFileSettings): ServerTls | undefined {
  const { tlsCert, tlsKey, tlsCa, tlsClientCerts } = settings;
  if (tlsCert === undefined && tlsKey === undefined) {
    if (tlsCa !== undefined || tlsClientCerts)
      throw new TlsConfigError(
        `${tlsCa !== undefined ? '--tls-ca' : '--tls-client-certs'} needs --tls-cert and --tls-key (the server's certificate and key)`,
      );
    return undefined;
  }
  if (tlsCert === undefined || tlsKey === undefined)
    throw new TlsConfigError(
      `${tlsCert === undefined ? '--tls-key needs --tls-cert' : '--tls-cert needs --tls-key'}: TLS takes a certificate and its key`,
    );
  if (tlsClientCerts && tlsCa === undefined)
    throw new TlsConfigError(
      '--tls-client-certs needs --tls-ca: the CA that signs the certificates peers must present',
    );
  const tls: ServerTls = {
    cert: readPemFile(tlsCert, '--tls-cert'),
    key: readPemFile(tlsKey, '--tls-key'),
    ca: tlsCa === undefined ? undefined : readPemFile(tlsCa, '--tls-ca'),
    requestCert: tlsClientCerts ?? false,
    handshakeTimeoutMs: settings.tlsHandshakeTimeoutMs ?? TLS_DEFAULTS.handshakeTimeoutMs,
  };
  secureContext(tls, `--tls-cert ${tlsCert}, --tls-key ${tlsKey}`);
  return tls;
}

/**
 * Reads a client's TLS files.
 * @throws {@link TlsConfigError} when a file cannot be read, or a certificate comes without
 *   its key (or the reverse)
 */
export function loadClientTls(files: TlsClientFiles): TlsClientOptions {
  if ((files.cert === undefined) !== (files.key === undefined))
    throw new TlsConfigError(
      `${files.cert === undefined ? '--tls-key needs --tls-cert' : '--tls-cert needs --tls-key'}: a client certificate comes with its key`,
    );
  return {
    ...(files.ca !== undefined && { ca: readPemFile(files.ca, '--tls-ca') }),
    ...(files.cert !== undefined && { cert: readPemFile(files.cert, '--tls-cert') }),
    ...(files.key !== undefined && { key: readPemFile(files.key, '--tls-key') }),
  };
}

/** ` (TLS)`, ` (TLS, client certificates required)`, or nothing: for a server's start line. */
export function describeServerTls(tls: ServerTls | undefined): string {
  if (!tls) return '';
  return tls.requestCert ? ' (TLS, client certificates required)' : ' (TLS)';
}

/**
 * The level at which a server logs a failed handshake: a refused certificate is a member or
 * client misconfigured, worth a warning; other failures (port probes, plain clients,
 * timeouts) are routine.
 */
export function handshakeFailureLevel(err: Error): 'warn' | 'debug' {
  return err instanceof ClientCertificateError ? 'warn' : 'debug';
}
