import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createInterface } from 'node:readline';
import { childEnv } from './child-env';
import { descendantsOf, recordPid, type PidRecord } from './pid-registry';
import { killAll, noteDescendant, noteExited, noteStarted } from './process-registry';
import { currentScope, type Scope } from './test-state';
import { sleep } from './wait';

/** One line a process wrote. */
export interface OutputLine {
  readonly stream: 'stdout' | 'stderr';
  readonly text: string;
  /** When the line was read (`performance.now()` of this process). */
  readonly at: number;
}

/** How a process ended. */
export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** What to run. */
export interface ProcessSpec {
  /** Shown in logs and errors, e.g. `node 127.0.0.1:40123`. */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd?: string;
  /** @default {@link childEnv}() */
  readonly env?: NodeJS.ProcessEnv;
  /** Extra text written to stdin, then stdin is closed. @default stdin closed at once */
  readonly input?: string;
  /**
   * Runs it in a process group of its own, so that {@link ManagedProcess.signalGroup} can
   * signal it and everything it started in that group, as a terminal or a supervisor does.
   * @default false
   */
  readonly processGroup?: boolean;
}

/** Most lines kept per process; older ones are dropped. */
const MAX_LINES = 20_000;

/**
 * A child process under the suite's control: started with its output captured line by
 * line, recorded in the pid file, and stoppable, pausable and restartable with the same
 * command line.
 */
export class ManagedProcess {
  readonly lines: OutputLine[] = [];
  /** Whether it belongs to the test that first started it or to the whole test file. */
  scope: Scope = 'test';
  /** Lines dropped from the front of {@link lines} to keep it bounded. */
  private dropped = 0;
  private child: ChildProcess | undefined;
  private exited: Promise<ExitStatus> | undefined;
  private outputEnded: Promise<void> | undefined;
  private status: ExitStatus | undefined;
  private readonly events = new EventEmitter<{ line: [OutputLine] }>();

  constructor(readonly spec: ProcessSpec) {}

  /** Starts a process (see {@link ManagedProcess.start}). */
  static start(spec: ProcessSpec): ManagedProcess {
    const managed = new ManagedProcess(spec);
    managed.start();
    return managed;
  }

  get name(): string {
    return this.spec.name;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** True from start until the exit is seen. */
  get running(): boolean {
    return this.child !== undefined && this.status === undefined;
  }

  /** How the last run ended, once it has. */
  get exitStatus(): ExitStatus | undefined {
    return this.status;
  }

  /** Spawns the command (again, after an exit: same command, arguments and environment). */
  start(): void {
    if (this.running) throw new Error(`${this.name} is already running`);
    if (this.child) this.push('stdout', `--- ${this.name} restarted ---`);
    else this.scope = currentScope();
    const child = spawn(this.spec.command, this.spec.args, {
      cwd: this.spec.cwd,
      env: this.spec.env ?? childEnv(),
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: this.spec.processGroup ?? false,
    });
    this.child = child;
    this.status = undefined;
    const pid = child.pid;
    if (pid === undefined) throw new Error(`could not start ${this.name}: no pid`);
    recordPid(pid, `${this.name}: ${this.spec.command} ${this.spec.args.join(' ')}`);
    noteStarted(this);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.status = { code, signal };
        noteExited(this);
        resolve(this.status);
      });
    });
    this.outputEnded = new Promise((resolve) => child.once('close', () => resolve()));
    child.once('error', (err) => this.push('stderr', `spawn error: ${err.message}`));
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(this.spec.input ?? '');
    for (const stream of ['stdout', 'stderr'] as const) {
      const readable = child[stream];
      if (readable)
        createInterface({ input: readable }).on('line', (text) => this.push(stream, text));
    }
  }

  private push(stream: OutputLine['stream'], text: string): void {
    const line: OutputLine = { stream, text, at: performance.now() };
    this.lines.push(line);
    if (this.lines.length > MAX_LINES) {
      this.lines.shift();
      this.dropped++;
    }
    this.events.emit('line', line);
  }

  /** Sends a signal if the process is running; false if it was not. */
  signal(signal: NodeJS.Signals): boolean {
    if (!this.running || !this.child) return false;
    return this.child.kill(signal);
  }

  /** Sends a signal to the process group of a process started with `processGroup`. */
  signalGroup(signal: NodeJS.Signals): void {
    if (!this.spec.processGroup) throw new Error(`${this.name} has no process group of its own`);
    if (!this.running || this.pid === undefined) throw new Error(`${this.name} is not running`);
    process.kill(-this.pid, signal);
  }

  /**
   * SIGKILL, then the exit. Whatever the process started is SIGKILLed with it (a command
   * such as `npx kv cluster` runs its servers in process groups of their own, which would
   * otherwise outlive it).
   */
  async kill(timeoutMs = 10_000): Promise<ExitStatus> {
    if (this.running && this.pid !== undefined) {
      const tree = this.trackDescendants(descendantsOf(this.pid));
      this.signal('SIGKILL');
      killAll(tree);
    }
    return this.waitForExit(timeoutMs);
  }

  /** SIGTERM (a graceful stop), then the exit. */
  async terminate(timeoutMs = 10_000): Promise<ExitStatus> {
    this.signal('SIGTERM');
    return this.waitForExit(timeoutMs);
  }

  /** SIGSTOP: the process stays, its sockets stay open, nothing answers. */
  pause(): void {
    if (!this.signal('SIGSTOP')) throw new Error(`cannot pause ${this.name}: not running`);
  }

  /** SIGCONT after {@link pause}. */
  resume(): void {
    if (!this.signal('SIGCONT')) throw new Error(`cannot resume ${this.name}: not running`);
  }

  /** Resolves with the exit status; rejects (with the output) if it takes longer than `timeoutMs`. */
  async waitForExit(timeoutMs: number): Promise<ExitStatus> {
    if (this.status) return this.status;
    if (!this.exited) throw new Error(`${this.name} was never started`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${this.name} did not exit within ${timeoutMs} ms\n${this.tail()}`)),
        timeoutMs,
      );
    });
    let status: ExitStatus;
    try {
      status = await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
    // The last lines may still be in the pipes; a descendant holding them open must not
    // hold this up for long.
    const enough = new AbortController();
    await Promise.race([
      this.outputEnded,
      sleep(1000, undefined, { signal: enough.signal }).catch(() => undefined),
    ]);
    enough.abort();
    return status;
  }

  /**
   * The first line (from index `from` of {@link lines} on, the ones already written
   * included) matching `pattern`; rejects if none comes within `timeoutMs` or the process
   * exits first.
   */
  waitForLine(pattern: RegExp, timeoutMs: number, from = 0): Promise<string> {
    const seen = this.lines
      .slice(Math.max(0, from - this.dropped))
      .find((l) => pattern.test(l.text));
    if (seen) return Promise.resolve(seen.text);
    return new Promise((resolve, reject) => {
      const finish = (err: Error | undefined, text?: string): void => {
        clearTimeout(timer);
        this.events.off('line', onLine);
        if (err) reject(err);
        else resolve(text as string);
      };
      const onLine = (line: OutputLine): void => {
        if (pattern.test(line.text)) finish(undefined, line.text);
      };
      const timer = setTimeout(
        () =>
          finish(
            new Error(
              `${this.name} wrote no line matching ${String(pattern)} within ${timeoutMs} ms` +
                `${this.status ? ` (it exited: ${describeExit(this.status)})` : ''}\n${this.tail()}`,
            ),
          ),
        timeoutMs,
      );
      this.events.on('line', onLine);
    });
  }

  /** Index to pass to {@link waitForLine} to only consider lines written from now on. */
  get mark(): number {
    return this.lines.length + this.dropped;
  }

  /** The lines of one stream (or both), joined. */
  output(stream?: 'stdout' | 'stderr'): string {
    return this.lines
      .filter((l) => stream === undefined || l.stream === stream)
      .map((l) => l.text)
      .join('\n');
  }

  /**
   * The last `count` lines, labelled, for failure messages; with `origin` (a
   * `performance.now()`), each line starts with when it was read, in ms after it.
   */
  tail(count = 60, origin?: number): string {
    const shown = this.lines.slice(-count);
    const skipped = this.lines.length + this.dropped - shown.length;
    const head = `--- ${this.name} (pid ${this.pid ?? '-'}${this.status ? `, ${describeExit(this.status)}` : ''})${skipped > 0 ? `, last ${shown.length} lines` : ''} ---`;
    return [
      head,
      ...shown.map((l) => {
        const at = origin === undefined ? '' : `${String(Math.round(l.at - origin)).padStart(6)} `;
        return `${l.stream === 'stderr' ? '!' : ' '} ${at}${l.text}`;
      }),
    ].join('\n');
  }

  /**
   * Records descendants of this process (e.g. what `npx` runs) in the pid file, so that
   * they are stopped with it and checked at the end; returns their records.
   */
  trackDescendants(pids: readonly number[]): PidRecord[] {
    const records: PidRecord[] = [];
    for (const pid of pids) {
      const record = noteDescendant(pid, `descendant of ${this.name}`, this.scope);
      if (record) records.push(record);
    }
    return records;
  }
}

export function describeExit(status: ExitStatus): string {
  return status.signal ? `killed by ${status.signal}` : `exit code ${status.code}`;
}
