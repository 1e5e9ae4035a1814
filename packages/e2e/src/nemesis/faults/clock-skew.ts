import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { addressOf, type Endpoint } from '../../harness/endpoint';
import { fetchLocal, nodesForKey, send } from '../../harness/resp';

/**
 * Clock skew: a node runs with its wall clock shifted by libfaketime (Debian's `faketime`
 * package), preloaded into Node.js itself. The `faketime` wrapper command is not used: it
 * forks, so the pid the suite pauses and kills would be the wrapper's, not the node's.
 * Only the wall clock moves (`FAKETIME_DONT_FAKE_MONOTONIC`): timers keep real time, as on
 * a machine whose clock is simply wrong.
 */

/** Where Debian and others put libfaketime's thread-safe variant (Node.js runs threads). */
const LIBRARY = 'libfaketimeMT.so.1';

/** The libfaketime library, or an error saying how to install it. */
export function libfaketimePath(): string {
  const candidates = ['/usr/lib/faketime', '/usr/local/lib/faketime'];
  for (const lib of ['/usr/lib', '/usr/lib64']) {
    try {
      for (const entry of readdirSync(lib)) candidates.push(join(lib, entry, 'faketime'));
    } catch {
      // No such folder here.
    }
  }
  const found = candidates.map((dir) => join(dir, LIBRARY)).find((path) => existsSync(path));
  if (!found)
    throw new Error(`${LIBRARY} not found: install libfaketime (apt-get install -y faketime)`);
  return found;
}

/** The environment that starts a process with its wall clock `offsetMs` ahead (or behind). */
export function faketimeEnv(offsetMs: number): NodeJS.ProcessEnv {
  const seconds = offsetMs / 1000;
  return {
    LD_PRELOAD: libfaketimePath(),
    FAKETIME: `${seconds >= 0 ? '+' : ''}${seconds}`,
    FAKETIME_DONT_FAKE_MONOTONIC: '1',
  };
}

/** Milliseconds of a version timestamp (`wall ms × 1024 + counter`, see @kv/node's hlc.ts). */
const LOGICAL_SPAN = 1024;

/**
 * How far ahead of this process's clock a node stamps writes: it coordinates a write of a
 * probe key it owns, and its own copy's version is read back. Run it before the workload,
 * while no node has yet seen a timestamp from another clock.
 */
export async function measureSkew(
  node: Endpoint,
  coordinator: Endpoint,
  probePrefix = 'nemesis:clock',
): Promise<number> {
  const id = addressOf(node);
  let key = '';
  for (let i = 0; key === ''; i++) {
    if (i >= 100) throw new Error(`no probe key among 100 has ${id} as a replica`);
    const candidate = `${probePrefix}:${i}`;
    if ((await nodesForKey(coordinator, candidate)).includes(id)) key = candidate;
  }
  const before = Date.now();
  await send(node, ['PUT', key, 'probe', 'W', '1']);
  const after = Date.now();
  const record = await fetchLocal(node, key);
  if (!record) throw new Error(`${id} holds no copy of ${key} it just wrote`);
  return Math.floor(record.ts / LOGICAL_SPAN) - (before + after) / 2;
}
