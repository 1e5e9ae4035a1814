import { readFileSync } from 'node:fs';
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
 * The first port the kernel hands out to outgoing connections and to port 0 (Linux's
 * `ip_local_port_range`; 32768 where it cannot be read).
 */
export function ephemeralStart(): number {
  try {
    const first = Number(
      readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').split(/\s+/)[0],
    );
    return Number.isInteger(first) && first > 1024 ? first : 32768;
  } catch {
    return 32768;
  }
}

/**
 * A port P such that P..P+count-1 and P+80..P+80+count-1 are all free, for commands that
 * take a base port (`kv cluster --base-port P` uses P for the coordinator, P+1.. for the
 * nodes and the same plus 80 for their HTTP listeners). P is taken below the ephemeral
 * range, so that no outgoing connection of any process on the machine can take one of
 * these ports between this check and the command's start, or while a test stops the
 * command and starts it again on the same ports.
 */
export async function freePortRange(count: number): Promise<number> {
  const top = Math.min(ephemeralStart(), 65536) - 80 - count;
  const bottom = Math.min(10_000, top - 1);
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = bottom + Math.floor(Math.random() * (top - bottom));
    let free = true;
    for (let port = base; port < base + count && free; port++) {
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
