import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { addressOf, type Endpoint } from '../../harness/endpoint';
import { infoNumber, inspectReply, send, text } from '../../harness/resp';

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

/**
 * How far ahead of this process's clock a node's wall clock runs, from one `TIME` round
 * trip (`[unix seconds, microseconds]`, as Redis answers), against the middle of it.
 */
export async function measureSkew(node: Endpoint): Promise<number> {
  const before = Date.now();
  const reply = await send(node, ['TIME']);
  const after = Date.now();
  const [seconds, micros] = Array.isArray(reply) ? reply.map((part) => Number(text(part))) : [];
  if (seconds === undefined || micros === undefined || Number.isNaN(seconds + micros))
    throw new Error(`TIME at ${addressOf(node)}: unexpected ${inspectReply(reply)}`);
  return seconds * 1000 + micros / 1000 - (before + after) / 2;
}

/** What a node says of its clock fence (INFO). */
export interface FenceState {
  /** The node's `--max-clock-offset`. */
  readonly boundMs: number;
  /** Its clock minus the cluster's, as it measured. */
  readonly offsetMs: number;
  readonly fenced: boolean;
  /** Writes and replica writes it refused while fenced. */
  readonly writesFenced: number;
  /** Whether it logged that its clock was out of bounds. */
  readonly logged: boolean;
}

/** Log line of a node that fenced itself (see @kv/node's clock-fence.ts). */
export const FENCED_LOG = /^\[Node \d+\] Clock out of bounds: /;

/** The fence of a node: its INFO fields, and whether its output has the fencing line. */
export async function fenceState(node: Endpoint, output: string): Promise<FenceState> {
  return {
    boundMs: await infoNumber(node, 'max_clock_offset_ms'),
    offsetMs: await infoNumber(node, 'clock_offset_ms'),
    fenced: (await infoNumber(node, 'clock_fenced')) === 1,
    writesFenced: await infoNumber(node, 'writes_fenced'),
    logged: output.split('\n').some((line) => FENCED_LOG.test(line)),
  };
}
