import { tryListen } from '../ports';

/**
 * A port `p` such that `p .. p + count - 1` are all free on 127.0.0.1 right now, for
 * commands that need fixed consecutive ports (`kv cluster`). Tried from a random start so
 * parallel test files rarely collide.
 */
export async function freePortRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    const results = await Promise.all(
      Array.from({ length: count }, (_, i) => tryListen(base + i, '127.0.0.1')),
    );
    if (results.every((code) => code === undefined)) return base;
  }
  throw new Error(`no ${count} consecutive free ports found`);
}
