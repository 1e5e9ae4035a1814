import { spawn, type ChildProcess } from 'node:child_process';
import { LineSplitter } from './line-splitter';
import type { ResolvedClusterOptions } from './cluster-options';

/** How a process of the cluster ended. */
export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/**
 * A process of the cluster: the same command line each time it is started, and the child
 * running it now.
 */
export interface Managed {
  /** `coordinator 127.0.0.1:5000` or `node 127.0.0.1:5001`. */
  readonly label: string;
  readonly role: 'coordinator' | 'node';
  /** `host:port`, its id. */
  readonly address: string;
  /** The tag of its output lines, `[Node 5001]`. */
  readonly tag: string;
  /** Its arguments after the `kv` script: the same on every start. */
  readonly args: readonly string[];
  child: ChildProcess;
  exited: Promise<Exit>;
  done: boolean;
  /** When it was restarted automatically, within the last minute. */
  restarts: number[];
  /** A pending automatic restart. */
  restartTimer?: NodeJS.Timeout;
}

/** Starts `kv <args>` with its output passed on, tagged. */
export function runKv(
  options: Pick<ResolvedClusterOptions, 'binPath' | 'env' | 'stdout' | 'stderr'>,
  args: readonly string[],
  tag: string,
): Pick<Managed, 'child' | 'exited'> {
  const child = spawn(process.execPath, [options.binPath, ...args], {
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: Ctrl-C in the terminal reaches only this process, which
    // then stops the children in order (nodes before the coordinator).
    detached: true,
  });
  const exited = new Promise<Exit>((resolveExit) => {
    child.once('error', () => resolveExit({ code: null, signal: null }));
    child.once('close', (code, signal) => resolveExit({ code, signal }));
  });
  forwardLines(child.stdout, options.stdout, tag);
  forwardLines(child.stderr, options.stderr, tag);
  return { child, exited };
}

/**
 * Sends SIGTERM to every running process of `group`; one still running after
 * `stopTimeoutMs` gets SIGKILL. Resolves when all have exited.
 */
export async function terminateGroup(
  group: readonly Managed[],
  options: Pick<ResolvedClusterOptions, 'stopTimeoutMs' | 'stderr'>,
): Promise<void> {
  const running = group.filter((p) => !p.done);
  if (running.length === 0) return;
  for (const p of running) p.child.kill('SIGTERM');
  const all = Promise.all(running.map((p) => p.exited));
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    all.then(() => false),
    new Promise<boolean>((r) => {
      timer = setTimeout(() => r(true), options.stopTimeoutMs);
    }),
  ]);
  clearTimeout(timer);
  if (timedOut) {
    for (const p of running.filter((q) => !q.done)) {
      options.stderr.write(
        `[Cluster] ${p.label} did not stop within ${options.stopTimeoutMs} ms: killing it\n`,
      );
      p.child.kill('SIGKILL');
    }
    await all;
  }
}

/**
 * Copies a child's output to `out` line by line, tagging each line with the process
 * (servers tag their own log lines; this covers the rest, such as startup errors), and
 * pauses the child's stream while `out` is full.
 */
function forwardLines(
  from: NodeJS.ReadableStream | null,
  out: NodeJS.WritableStream,
  tag: string,
): void {
  if (!from) return;
  const splitter = new LineSplitter();
  const write = (lines: string[]): void => {
    if (lines.length === 0) return;
    const text = lines.map((l) => `${l.startsWith(tag) ? l : `${tag} ${l}`}\n`).join('');
    if (!out.write(text)) {
      from.pause();
      out.once('drain', () => from.resume());
    }
  };
  from.on('data', (chunk: Buffer) => write(splitter.push(chunk)));
  from.on('end', () => write(splitter.end()));
}
