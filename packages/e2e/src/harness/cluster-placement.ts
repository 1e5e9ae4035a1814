import { readFileSync } from 'node:fs';
import { connectTls, type DevCertificates } from '@kv/protocol';
import type { Endpoint } from './endpoint';
import { freePort, HOST } from './free-port';
import type { ProcessSpec } from './managed-process';

/**
 * Certificates every server of a test cluster speaks TLS with, requiring client
 * certificates with `clientCerts`.
 */
export interface ClusterTls {
  readonly files: DevCertificates;
  readonly clientCerts?: boolean;
}

/** Which server of a cluster a process is: the coordinator, or a node by start order (0-based). */
export type ClusterRole = 'coordinator' | number;

/**
 * Where the processes of a cluster listen and how each is launched. The default,
 * {@link loopbackPlacement}, runs every process here on free ports of 127.0.0.1; the
 * nemesis suite runs each in a network namespace of its own.
 */
export interface ClusterPlacement {
  /** The endpoint of a server; each node gets its own. */
  endpoint(role: ClusterRole): Promise<Endpoint>;
  /** The command that runs the built `script` with `args` as that server. */
  launch(
    role: ClusterRole,
    script: string,
    args: readonly string[],
  ): Pick<ProcessSpec, 'command' | 'args' | 'env'>;
}

/**
 * Every server on a free port of 127.0.0.1 (never one this placement handed out before),
 * run by this Node.js.
 */
export function loopbackPlacement(): ClusterPlacement {
  const given = new Set<number>();
  return {
    endpoint: async () => {
      let port = await freePort();
      while (given.has(port)) port = await freePort();
      given.add(port);
      return { host: HOST, port };
    },
    launch: (_role, script, args) => ({ command: process.execPath, args: [script, ...args] }),
  };
}

/** The flags that give a server the cluster's certificates. */
export function serverTlsArgs(tls: ClusterTls | undefined): string[] {
  if (!tls) return [];
  const { files, clientCerts } = tls;
  return [
    ...['--tls-cert', files.cert, '--tls-key', files.key, '--tls-ca', files.ca],
    ...(clientCerts ? ['--tls-client-certs'] : []),
  ];
}

/** A placement whose endpoints are dialled with the cluster's client certificate. */
export function tlsPlacement(
  placement: ClusterPlacement,
  tls: ClusterTls | undefined,
): ClusterPlacement {
  if (!tls) return placement;
  const { files } = tls;
  const connect = connectTls({
    ca: readFileSync(files.ca),
    cert: readFileSync(files.clientCert),
    key: readFileSync(files.clientKey),
  });
  return {
    endpoint: async (role) => ({ ...(await placement.endpoint(role)), connect }),
    launch: (role, script, args) => placement.launch(role, script, args),
  };
}
