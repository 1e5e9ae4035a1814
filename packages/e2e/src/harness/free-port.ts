import { createServer } from 'node:net';

/** The only address the suite listens on or connects to. */
export const HOST = '127.0.0.1';

function tryListen(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen({ port, host: HOST, exclusive: true }, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : undefined;
      server.close(() => resolve(bound));
    });
  });
}

/** A port that was free a moment ago: the kernel's pick for port 0, released at once. */
export async function freePort(): Promise<number> {
  const port = await tryListen(0);
  if (port === undefined) throw new Error(`cannot listen on ${HOST}:0 to find a free port`);
  return port;
}

/** `count` distinct free ports. */
export async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

/**
 * A port P such that P..P+count-1 and P+80..P+80+count-1 are all free, for commands that
 * take a base port (`kv cluster --base-port P` uses P for the coordinator, P+1.. for the
 * nodes and the same plus 80 for their HTTP listeners).
 */
export async function freePortRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = await freePort();
    if (base + 80 + count - 1 > 65535) continue;
    let free = true;
    for (let port = base + 1; port < base + count && free; port++) {
      free = (await tryListen(port)) === port;
    }
    // `kv cluster` also listens 80 ports above, for /metrics and the dashboard.
    for (let port = base + 80; port < base + 80 + count && free; port++) {
      free = (await tryListen(port)) === port;
    }
    if (free) return base;
  }
  throw new Error(`found no ${count} consecutive free ports on ${HOST}`);
}
