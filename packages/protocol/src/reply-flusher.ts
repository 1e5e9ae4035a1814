import type { ConnectionLoop } from './connection-loop';

/**
 * The connections with replies waiting to be written, written together once the event loop
 * has handled every socket that had input ready (`setImmediate` runs right after that poll
 * phase), as Redis writes its replies before it waits for input again. Each connection
 * still gets one write for all the replies it has due, but its peer (often one process
 * driving many connections) is woken once for the whole round of writes rather than
 * between reads, and replies completed asynchronously meanwhile leave in the same write.
 *
 * With a `durability` gate (see RespServerOptions.durability), a round's replies are taken
 * from their connections and written once the gate resolves, as Redis with `appendfsync
 * always` writes its replies after the append-only file's sync: no reply leaves before the
 * writes accepted ahead of it are durable. Rounds are written in the order they were
 * taken, so each connection's replies keep their order.
 */
export class ReplyFlusher {
  private due: ConnectionLoop[] = [];
  private scheduled = false;
  /** The last round held for the gate, until it is written. */
  private tail: Promise<void> | undefined;
  /** The last failure of the gate reported. */
  private reported: unknown;

  constructor(
    private readonly durability?: () => Promise<void> | undefined,
    private readonly onError?: (err: unknown, connection: ConnectionLoop) => void,
  ) {}

  /** Whether replies may wait for a durability gate before they are written. */
  get gated(): boolean {
    return this.durability !== undefined;
  }

  /** Writes `loop`'s replies after this round of input. */
  add(loop: ConnectionLoop): void {
    this.due.push(loop);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.run);
  }

  private readonly run = (): void => {
    this.scheduled = false;
    const due = this.due;
    this.due = [];
    const gate = this.durability?.();
    const before = this.tail;
    // After the round before it, whatever becomes of either (`before` never rejects).
    const wait = gate && before ? before.then(() => gate) : (gate ?? before);
    if (wait === undefined) {
      for (let i = 0; i < due.length; i++) (due[i] as ConnectionLoop).flush();
      return;
    }
    const rounds = due.map((loop) => loop.takeReplies());
    const written = wait
      .then(
        () => {
          each(due, rounds, (loop, round) => loop.send(round));
        },
        (err: unknown) => {
          // What the replies acknowledge may not survive a crash: none is sent, and their
          // connections are closed, so their clients learn nothing they could rely on.
          // Reported once, however many rounds it fails.
          if (due.length > 0 && err !== this.reported)
            this.onError?.(err, due[0] as ConnectionLoop);
          this.reported = err;
          each(due, rounds, (loop, round) => loop.abandon(round));
        },
      )
      // The next rounds go whatever becomes of this one.
      .catch(() => undefined);
    this.tail = written;
    void written.then(() => {
      if (this.tail === written) this.tail = undefined;
    });
  };
}

/**
 * Settles each connection's round. Writing to a socket does not throw; were it (or a hook
 * it calls) to, the other connections of the round are still settled, so that each
 * releases what it counts in flight.
 */
function each(
  due: readonly ConnectionLoop[],
  rounds: readonly Buffer[][],
  settle: (loop: ConnectionLoop, round: Buffer[]) => void,
): void {
  for (let i = 0; i < due.length; i++) {
    try {
      settle(due[i] as ConnectionLoop, rounds[i] as Buffer[]);
    } catch {
      // See above.
    }
  }
}
