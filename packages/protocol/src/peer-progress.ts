/**
 * Whether a connection has been in some state (its peer owing the server the rest of a
 * request or the reading of replies; or the connection idle) for a timeout without any
 * progress meanwhile (what was received: whole requests, or bytes for the idle timeout;
 * reply bytes taken): pure bookkeeping, checked a few times per timeout by
 * {@link ConnectionLoop.check}.
 */
export class PeerProgress {
  /** What the last check saw: what was received, reply bytes taken by the peer. */
  private seenReceived = 0;
  private seenTaken = 0;
  /** Since when (ms) the state has held; 0: it does not hold. */
  private owingSince = 0;

  /**
   * Whether the state (`owing`: the peer owes something, or the connection is idle) has
   * held for `timeoutMs` (as of `now`) without any progress since: `received` so far
   * (requests, or bytes), `taken` reply bytes written out of the socket's buffer (a reply
   * counts once all of it is out, so a peer must take each reply, at most a value's size,
   * within the timeout).
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

/** What {@link ConnectionTimeouts.expired} weighs, as a connection's check finds it. */
export interface ConnectionProgress {
  /** Requests received whole, and bytes received, so far. */
  readonly received: number;
  readonly bytesIn: number;
  /**
   * Reply bytes the peer has taken so far: written out of the socket's buffer, which grows
   * as the peer reads however much more the server wrote meanwhile.
   */
  readonly taken: number;
  /** The peer owes the rest of a request, or the reading of replies. */
  readonly owing: boolean;
  /**
   * Nothing received is unanswered, and no reply waits to be written. Silence halfway
   * through a request is idleness too, and so are replies left unread below the output
   * bound (a peer reading them would be taking them).
   */
  readonly idle: boolean;
}

/** The request and idle timeouts of one connection (0: that one is off). */
export class ConnectionTimeouts {
  private readonly request = new PeerProgress();
  private readonly quiet = new PeerProgress();

  constructor(
    private readonly requestTimeoutMs: number,
    private readonly idleTimeoutMs: number,
  ) {}

  /**
   * Which timeout the connection is past as of `now`, if any: `request` once its peer has
   * owed something for the request timeout without completing a request or taking reply
   * bytes; `idle` once it has been idle for the idle timeout with no byte received and no
   * reply byte taken.
   */
  expired(now: number, p: ConnectionProgress): 'request' | 'idle' | undefined {
    const { requestTimeoutMs, idleTimeoutMs } = this;
    if (
      requestTimeoutMs > 0 &&
      this.request.stalled(now, requestTimeoutMs, p.received, p.taken, p.owing)
    )
      return 'request';
    if (idleTimeoutMs > 0 && this.quiet.stalled(now, idleTimeoutMs, p.bytesIn, p.taken, p.idle))
      return 'idle';
    return undefined;
  }
}
