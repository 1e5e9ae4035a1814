import { createServer } from 'node:net';
import { CliError, PortInUseError } from './errors';

/**
 * Checks that every port can be listened on at `host`, by listening on each and closing
 * again at once.
 *
 * @throws {@link PortInUseError} naming every port in use; {@link CliError} for a port that
 *   cannot be bound for another reason (`EACCES` for a privileged port, ...)
 */
export async function assertPortsFree(ports: readonly number[], host = '127.0.0.1'): Promise<void> {
  const results = await Promise.all(ports.map((port) => tryListen(port, host)));
  const inUse = ports.filter((_, i) => results[i] === 'EADDRINUSE');
  if (inUse.length > 0) throw new PortInUseError(inUse);
  const other = results.findIndex((code) => code !== undefined);
  if (other !== -1) {
    throw new CliError(`cannot listen on ${host}:${ports[other]} (${results[other]})`);
  }
}

/** Listens on the port and closes again; the error code if it could not listen. */
export function tryListen(port: number, host = '127.0.0.1'): Promise<string | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'EUNKNOWN'));
    server.listen({ port, host, exclusive: true }, () => {
      server.close(() => resolve(undefined));
    });
  });
}
