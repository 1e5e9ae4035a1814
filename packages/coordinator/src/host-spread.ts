import { hostOfId, type Ring } from '@kv/ring';
import type { LogLine } from './change-log';

/**
 * Watches whether the ring has machines enough for the copies of every key to sit on
 * distinct hosts. Placement takes distinct hosts first and falls back to sharing one only
 * when there are fewer hosts than copies; this says so once when that starts, and once when
 * it ends, rather than at every change.
 */
export class HostSpread {
  private short = false;

  /** The line to log after a change to `ring`, or undefined when nothing changed. */
  check(ring: Ring): LogLine | undefined {
    const copies = Math.min(ring.replicationFactor, ring.size);
    const hosts = new Set(ring.members.map((m) => m.host ?? hostOfId(m.id))).size;
    const short = hosts < copies;
    if (short === this.short) return undefined;
    this.short = short;
    return short
      ? {
          level: 'warn',
          message:
            `${ring.size} nodes run on ${hosts} host(s), fewer than the ${copies} copies of each key: ` +
            'some keys have copies on one machine, and losing that machine loses them. ' +
            'Run nodes on more machines (a one-machine cluster such as `kv cluster` always shares one)',
        }
      : { level: 'info', message: `The ${copies} copies of every key are on distinct hosts again` };
  }
}
