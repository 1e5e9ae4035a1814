/**
 * Whether a connection's peer keeps up, from what it has done so far (requests received
 * whole, reply bytes taken) and whether it owes the server something (the rest of a
 * request, or the reading of replies): pure bookkeeping, checked a few times per request
 * timeout by {@link ConnectionLoop.checkProgress}.
 */
export class PeerProgress {
  /** What the last check saw: requests received, reply bytes taken by the peer. */
  private seenReceived = 0;
  private seenTaken = 0;
  /** Since when (ms) the peer owes the rest of a request or the reading of replies; 0: it does not. */
  private owingSince = 0;

  /**
   * Whether the peer has owed something for `timeoutMs` (as of `now`) without any progress
   * since: `received` requests so far, `taken` reply bytes written out of the socket's
   * buffer (a reply counts once all of it is out, so a peer must take each reply, at most
   * a value's size, within the timeout).
   */
  stalled(
    now: number,
    timeoutMs: number,
    received: number,
    taken: number,
    owing: boolean,
  ): boolean {
    const progressed = received !== this.seenReceived || taken > this.seenTaken;
    this.seenReceived = received;
    this.seenTaken = taken;
    if (!owing) this.owingSince = 0;
    else if (progressed || this.owingSince === 0) this.owingSince = now;
    else return now - this.owingSince >= timeoutMs;
    return false;
  }
}
