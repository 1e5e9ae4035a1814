import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Ring, RingError } from '@kv/ring';
import { StateFileError, StateWriteError } from './errors';
import type { MembershipState } from './membership';
import type { MembershipStore } from './membership-store';

/** Name of the state file inside the data directory. */
export const STATE_FILE_NAME = 'membership.json';

/** Identifies the file's content, so a stray JSON file is not mistaken for a membership. */
const FORMAT = 'kv-coordinator-membership';
const FORMAT_VERSION = 1;

/** The state file as written: one JSON object. */
interface StateFile {
  readonly format: typeof FORMAT;
  readonly version: typeof FORMAT_VERSION;
  /** When it was written (ISO 8601), for people reading the file. */
  readonly savedAt: string;
  readonly epoch: number;
  readonly ring: MembershipState['ring'];
  /** Present while a node is joining or leaving. */
  readonly target?: MembershipState['ring'];
}

/** Errors of `fsync` on a directory that mean "not supported here", not "failed". */
const DIR_SYNC_UNSUPPORTED = new Set(['EISDIR', 'EPERM', 'EINVAL', 'ENOTSUP', 'EBADF']);

interface QueuedSave {
  state: MembershipState;
  readonly done: Promise<void>;
}

/**
 * The membership state file `<dataDir>/membership.json`. Saves are atomic: the state is
 * written to a temporary file which is fsynced, renamed over the state file, and the
 * directory fsynced, so after a crash the file holds either the old or the new state,
 * never a mix. Saves never overlap: a save requested while one is running waits for it,
 * and all the requests made meanwhile are served by one write of the newest state.
 */
export class StateStore implements MembershipStore {
  /** Absolute path of the data directory. */
  readonly dir: string;
  /** Absolute path of the state file. */
  readonly file: string;
  private running: Promise<void> | undefined;
  private queued: QueuedSave | undefined;
  private dirReady = false;

  constructor(dataDir: string) {
    this.dir = resolve(dataDir);
    this.file = join(this.dir, STATE_FILE_NAME);
  }

  /** The state file's path. */
  get location(): string {
    return this.file;
  }

  /**
   * Reads the saved state.
   * @returns the state, or `undefined` if there is no state file (a clean start)
   * @throws {@link StateFileError} if the file cannot be read or does not hold a valid state
   */
  async load(): Promise<MembershipState | undefined> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return undefined;
      throw new StateFileError(this.file, `the file cannot be read (${code ?? String(err)})`, {
        cause: err,
      });
    }
    return decodeState(text, (problem, cause) => {
      throw new StateFileError(this.file, problem, { cause });
    });
  }

  /**
   * Saves `state` atomically; resolves once it is durable.
   * @throws {@link StateWriteError} if the directory or the file cannot be written
   */
  save(state: MembershipState): Promise<void> {
    if (this.queued) {
      this.queued.state = state;
      return this.queued.done;
    }
    if (this.running === undefined) return this.run(state);
    const queued: QueuedSave = {
      state,
      done: this.running
        .catch(() => undefined)
        .then(() => {
          this.queued = undefined;
          return this.run(queued.state);
        }),
    };
    this.queued = queued;
    return queued.done;
  }

  private run(state: MembershipState): Promise<void> {
    const write = this.write(state).finally(() => {
      if (this.running === write) this.running = undefined;
    });
    this.running = write;
    return write;
  }

  private async write(state: MembershipState): Promise<void> {
    const temp = `${this.file}.tmp`;
    try {
      if (!this.dirReady) {
        await mkdir(this.dir, { recursive: true });
        this.dirReady = true;
      }
      const handle = await open(temp, 'w', 0o644);
      try {
        await handle.writeFile(encodeState(state));
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, this.file);
      await syncDirectory(this.dir);
    } catch (err) {
      throw new StateWriteError(this.file, { cause: err });
    }
  }
}

/** Makes a rename inside `dir` durable, where the platform supports it. */
async function syncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (err) {
    if (!DIR_SYNC_UNSUPPORTED.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
  } finally {
    await handle?.close();
  }
}

/**
 * The saved form of `state`: one JSON object, as the state file and etcd hold it.
 */
export function encodeState(state: MembershipState): string {
  const content: StateFile = {
    format: FORMAT,
    version: FORMAT_VERSION,
    savedAt: new Date().toISOString(),
    epoch: state.epoch,
    ring: state.ring,
    ...(state.target && { target: state.target }),
  };
  return `${JSON.stringify(content, null, 2)}\n`;
}

/** Says why saved state is unusable (a problem in words, and the error behind it). */
export type StateProblem = (problem: string, cause?: unknown) => never;

/** Parses and validates saved state, as {@link encodeState} writes it. */
export function decodeState(text: string, fail: StateProblem): MembershipState {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return fail(`the state is not valid JSON (${(err as Error).message})`, err);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return fail('the state is not a JSON object');
  }
  const { format, version, epoch, ring, target } = json as Partial<
    Record<keyof StateFile, unknown>
  >;
  if (format !== FORMAT) {
    return fail(`"format" is ${JSON.stringify(format)}, not "${FORMAT}"`);
  }
  if (version !== FORMAT_VERSION) {
    return fail(
      `"version" is ${JSON.stringify(version)}; this coordinator reads version ${FORMAT_VERSION}`,
    );
  }
  if (typeof epoch !== 'number' || !Number.isSafeInteger(epoch) || epoch < 0) {
    return fail(`"epoch" is ${JSON.stringify(epoch)}, not an integer ≥ 0`);
  }
  return {
    epoch,
    ring: decodeRing(fail, 'ring', ring),
    ...(target !== undefined && { target: decodeRing(fail, 'target', target) }),
  };
}

function decodeRing(fail: StateProblem, name: string, ring: unknown): MembershipState['ring'] {
  if (typeof ring !== 'object' || ring === null) return fail(`"${name}" is missing`);
  for (const option of ['vnodesPerWeight', 'replicationFactor'] as const) {
    if (!(option in ring)) return fail(`"${name}.${option}" is missing`);
  }
  try {
    // Validates members and options exactly as a ring does, and normalises the order.
    return Ring.fromJSON(ring).toJSON();
  } catch (err) {
    if (!(err instanceof RingError)) throw err;
    return fail(`"${name}" is invalid (${err.message})`, err);
  }
}
