import { TooLargeError } from './errors';
import type { ConnectionLoop } from './connection-loop';
import type { ParsedRequest } from './parser';
import type { RespServerOptions } from './server-options';

/**
 * The server-wide bound on commands in flight ({@link RespServerOptions.maxInFlight}),
 * shared by its connections: the count, and the connections held back at the bound.
 */
export class Admission {
  inFlight = 0;
  /** Held connections, in the order they were held (a Set keeps insertion order). */
  private readonly held = new Set<ConnectionLoop>();

  constructor(
    readonly max: number,
    private readonly admits: RespServerOptions['admitsAtBound'],
    private readonly onHeld: RespServerOptions['onHeld'],
  ) {}

  get full(): boolean {
    return this.max > 0 && this.inFlight >= this.max;
  }

  get heldCount(): number {
    return this.held.size;
  }

  /** Whether `request` of a connection not marked priority may be dispatched now. */
  admit(request: ParsedRequest, loop: ConnectionLoop): boolean {
    return (
      !this.full ||
      (this.admits !== undefined &&
        !(request instanceof TooLargeError) &&
        this.admits(request, loop))
    );
  }

  hold(loop: ConnectionLoop): void {
    this.held.add(loop);
    this.onHeld?.(loop);
  }

  forget(loop: ConnectionLoop): void {
    this.held.delete(loop);
  }

  /** `count` counted commands finished: wakes held connections while there is room. */
  release(count = 1): void {
    this.inFlight -= count;
    for (const loop of this.held) {
      if (this.full) return;
      this.held.delete(loop);
      loop.wake();
    }
  }
}

/**
 * One connection's replies made at once that count in flight until written, because the
 * server's durability gate may hold them: those not taken yet, and those of each round
 * taken for the gate, in order (the gate writes rounds in the order it took them).
 */
export class CountedReplies {
  /** Whether replies are counted: they may be held for a gate, and in flight is bounded. */
  readonly active: boolean;
  private untaken = 0;
  private readonly rounds: number[] = [];

  constructor(
    private readonly admission: Admission,
    gated: boolean,
  ) {
    this.active = gated && admission.max > 0;
  }

  /** One more reply due to be written, already counted in {@link Admission.inFlight}. */
  add(): void {
    this.untaken++;
  }

  /** The replies counted so far go with the round just taken for the gate. */
  takeRound(): void {
    this.rounds.push(this.untaken);
    this.untaken = 0;
  }

  /** The oldest round taken is written, or dropped: its replies are no longer in flight. */
  releaseRound(): void {
    const count = this.rounds.shift() ?? 0;
    if (count > 0) this.admission.release(count);
  }

  /** The replies not taken are written without the gate. */
  releaseUntaken(): void {
    const count = this.untaken;
    this.untaken = 0;
    if (count > 0) this.admission.release(count);
  }
}
