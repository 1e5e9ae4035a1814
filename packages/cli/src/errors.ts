/** Base class of every error this package throws. */
export class CliError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CliError';
  }
}

/**
 * The command line or a shell line is not valid: an unknown command, missing or extra
 * arguments, a bad flag value. `kv` exits 2.
 */
export class UsageError extends CliError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UsageError';
  }
}

/** Ports `kv cluster` needs are taken by another process; nothing was started. */
export class PortInUseError extends CliError {
  /** Every port that could not be bound, ascending. */
  readonly ports: readonly number[];
  constructor(ports: readonly number[]) {
    const list = ports.join(', ');
    super(
      ports.length === 1
        ? `port ${list} is already in use: stop what uses it or choose another --base-port`
        : `ports ${list} are already in use: stop what uses them or choose another --base-port`,
    );
    this.name = 'PortInUseError';
    this.ports = ports;
  }
}

/** A process started by `kv cluster` exited while the cluster was meant to be running. */
export class ProcessExitedError extends CliError {
  /** The process's role, e.g. `coordinator 127.0.0.1:5000` or `node 127.0.0.1:5001`. */
  readonly process: string;
  /** Its exit code, or null when a signal ended it. */
  readonly code: number | null;
  /** The signal that ended it, or null. */
  readonly signal: NodeJS.Signals | null;
  constructor(process: string, code: number | null, signal: NodeJS.Signals | null) {
    super(
      `${process} exited unexpectedly (${signal ? `signal ${signal}` : `exit code ${code}`}); ` +
        'its log lines above say why',
    );
    this.name = 'ProcessExitedError';
    this.process = process;
    this.code = code;
    this.signal = signal;
  }
}

/** The processes of `kv cluster` started but the nodes did not all serve reads in time. */
export class ClusterStartTimeoutError extends CliError {
  /**
   * Node ids not serving when the wait ended: not in the ring yet, or not yet at the
   * coordinator's ring epoch.
   */
  readonly missing: readonly string[];
  constructor(timeoutMs: number, missing: readonly string[]) {
    super(
      `the cluster did not become ready within ${timeoutMs} ms: ${missing.join(', ')} ` +
        'not in the ring',
    );
    this.name = 'ClusterStartTimeoutError';
    this.missing = missing;
  }
}

/** `kv cluster` was told to stop (Ctrl-C) before it was ready; what it started was stopped. */
export class StartInterruptedError extends CliError {
  constructor() {
    super('interrupted while starting the cluster');
    this.name = 'StartInterruptedError';
  }
}
