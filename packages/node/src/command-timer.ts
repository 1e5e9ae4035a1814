import { ReplyError, type CommandHook, type Reply } from '@kv/protocol';
import type { CommandCells, NodeMetrics } from './metrics';

/**
 * Counts each command by result and times it, around the router's dispatch: {@link hook}
 * runs as a router hook and notes which command is dispatched, {@link finish} records the
 * reply once it is ready. A request the router refuses before any hook ran (unknown name,
 * wrong arity) is counted as rejected. Nothing is allocated per request but the closures
 * of an asynchronous reply.
 */
export class CommandTimer {
  private current: CommandCells | undefined;

  constructor(private readonly metrics: NodeMetrics) {}

  /** The router hook. */
  readonly hook: CommandHook = ({ name }) => {
    this.current = this.metrics.command(name);
  };

  /** Call before dispatching; returns the start time to give {@link finish}. */
  start(): number {
    this.current = undefined;
    return performance.now();
  }

  /** Records a dispatch that began at `startedAt` and threw: an error of its command. */
  threw(startedAt: number): void {
    this.current?.record(false, (performance.now() - startedAt) / 1000);
  }

  /** Records the dispatch that began at `startedAt` and returned `reply`. */
  finish(startedAt: number, reply: Reply | Promise<Reply>): Reply | Promise<Reply> {
    const cells = this.current;
    if (cells === undefined) {
      if (reply instanceof ReplyError) this.metrics.rejected.inc();
      return reply;
    }
    if (reply instanceof Promise) {
      return reply.then(
        (value) => {
          cells.record(!(value instanceof ReplyError), (performance.now() - startedAt) / 1000);
          return value;
        },
        (err: unknown) => {
          cells.record(false, (performance.now() - startedAt) / 1000);
          throw err;
        },
      );
    }
    cells.record(!(reply instanceof ReplyError), (performance.now() - startedAt) / 1000);
    return reply;
  }
}
