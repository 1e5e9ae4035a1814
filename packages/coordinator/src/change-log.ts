import type { Member } from '@kv/ring';
import type { MembershipChange } from './membership';

/** A log line: level and message. */
export interface LogLine {
  readonly level: 'warn' | 'info' | 'debug';
  readonly message: string;
}

/**
 * The log lines of a membership change, e.g.
 * `Node 127.0.0.1:5001 registered (zone a, weight 1), epoch 4` or, at warn level,
 * `Node 127.0.0.1:5001 marked as dead and removed` (the line operators of the original
 * coordinator grep for, so it stays exactly that; the epoch follows at debug level).
 */
export function describeChange(change: MembershipChange): LogLine[] {
  const { member, epoch } = change;
  switch (change.kind) {
    case 'joining':
      return [
        info(
          `Node ${member.id} joining (${placement(member)}): taking writes, copying its ranges before it serves reads, epoch ${epoch}`,
        ),
      ];
    case 'joined':
      return [info(`Node ${member.id} registered (${placement(member)}), epoch ${epoch}`)];
    case 'leaving':
      return [
        info(`Node ${member.id} leaving: handing its ranges to their next owners, epoch ${epoch}`),
      ];
    case 'updated':
      return [
        info(
          `Node ${member.id} re-registered (${placement(member)}; was ${placement(change.previous)}), epoch ${epoch}`,
        ),
      ];
    case 'left':
      return [info(`Node ${member.id} unregistered, epoch ${epoch}`)];
    case 'died':
      return [
        { level: 'warn', message: `Node ${member.id} marked as dead and removed` },
        {
          level: 'debug',
          message: `Node ${member.id} was silent for ${Math.round(change.silentMs)} ms, epoch ${epoch}`,
        },
      ];
  }
}

function info(message: string): LogLine {
  return { level: 'info', message };
}

function placement(member: Member): string {
  return `${member.zone === '' ? 'no zone' : `zone ${member.zone}`}, weight ${member.weight}`;
}
