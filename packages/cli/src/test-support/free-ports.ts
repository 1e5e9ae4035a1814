import { tryListen } from '../ports';

/**
 * A port `p` such that `p .. p + count - 1`, and the same ports plus 80, are all free on
 * 127.0.0.1 right now, for commands that need fixed consecutive ports (`kv cluster`).
 * Tried from a random start so parallel test files rarely collide.
 */
export async function freePortRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    const results = await Promise.all(
      // `kv cluster` also takes the ports 80 above, for its HTTP listeners.
      Array.from({ length: count }, (_, i) => [base + i, base + 80 + i])
        .flat()
        .map((port) => tryListen(port, '127.0.0.1')),
    );
    if (results.every((code) => code === undefined)) return base;
  }
  throw new Error(`no ${count} consecutive free ports found`);
}
