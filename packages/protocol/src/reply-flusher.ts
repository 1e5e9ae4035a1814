import type { ConnectionLoop } from './connection-loop';

/**
 * The connections with replies waiting to be written, written together once the event loop
 * has handled every socket that had input ready (`setImmediate` runs right after that poll
 * phase), as Redis writes its replies before it waits for input again. Each connection
 * still gets one write for all the replies it has due, but its peer (often one process
 * driving many connections) is woken once for the whole round of writes rather than
 * between reads, and replies completed asynchronously meanwhile leave in the same write.
 */
export class ReplyFlusher {
  private due: ConnectionLoop[] = [];
  private scheduled = false;

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
    for (let i = 0; i < due.length; i++) (due[i] as ConnectionLoop).flush();
  };
}
