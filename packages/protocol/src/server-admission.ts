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
