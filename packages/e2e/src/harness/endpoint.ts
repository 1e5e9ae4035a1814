import type { ConnectFactory } from '@kv/protocol';
import { HOST } from './free-port';

/** Where a server listens. */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
  /** How to dial it, when not plain TCP (a server of a TLS cluster). */
  readonly connect?: ConnectFactory;
}

/** A server to talk to: a port of {@link HOST}, or any endpoint. */
export type Target = number | Endpoint;

export function endpointOf(target: Target): Endpoint {
  return typeof target === 'number' ? { host: HOST, port: target } : target;
}

/** `host:port`: how the ring, clients and the CLI name a server. */
export function addressOf(target: Target): string {
  const { host, port } = endpointOf(target);
  return `${host}:${port}`;
}
