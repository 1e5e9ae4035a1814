import { parseTimeReply, type CommandArg, type RespValue } from '@kv/protocol';
import type { ClockOffsetMonitor } from './clock-offset';

/** Options of {@link ClockSampler}. */
export interface ClockSamplerOptions {
  readonly monitor: ClockOffsetMonitor;
  /** Sends a command to a member (`host:port`) or the coordinator. */
  readonly send: (target: string, args: CommandArg[]) => Promise<RespValue>;
  /** This node's wall clock. @default Date.now */
  readonly now?: () => number;
}

/**
 * Measures other members' clocks with `TIME` round trips and feeds the
 * {@link ClockOffsetMonitor}. One sample per call, so the caller sets the pace (one per
 * heartbeat, to the coordinator and to the next peer in turn); a member that does not
 * answer is simply not measured.
 */
export class ClockSampler {
  private turn = 0;
  private readonly now: () => number;

  constructor(private readonly options: ClockSamplerOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Measures `target`'s clock once; resolves true if it answered with a time. */
  async sample(target: string): Promise<boolean> {
    const sentAt = this.now();
    let reply: RespValue;
    try {
      reply = await this.options.send(target, ['TIME']);
    } catch {
      return false;
    }
    const receivedAt = this.now();
    const remoteAt = parseTimeReply(reply);
    if (remoteAt === undefined) return false;
    this.options.monitor.record(target, { sentAt, remoteAt, receivedAt });
    return true;
  }

  /** Measures the next of `peers` in turn (round robin); false when there is none. */
  async sampleNext(peers: readonly string[]): Promise<boolean> {
    if (peers.length === 0) return false;
    const target = peers[this.turn++ % peers.length] as string;
    return this.sample(target);
  }
}
