import { Socket, type ConnectOpts, type SocketConstructorOpts } from 'node:net';
import { Readable } from 'node:stream';

/**
 * How a socket's input reaches its reader: `buffer` (read into one buffer, see
 * {@link readChunks}) or `stream` (`'data'` events).
 */
export type ReadPath = 'buffer' | 'stream';

/** The most one read takes, as much as Node.js offers a socket's read by default. */
const READ_BYTES = 64 * 1024;

/**
 * The one buffer sockets read through {@link readChunks} are read into. A read hands its
 * bytes over, copied out, before any socket's next read begins (each read's callback runs
 * on the event loop, to its end), so every socket can share it.
 */
let shared: Buffer | undefined;

/** The fields by which a `net.Socket` made with the `onread` option reads into a buffer. */
interface ReadFields {
  readonly buffer: symbol;
  readonly callback: symbol;
  readonly generator: symbol;
}

/** Looked up once: null if this Node.js has no such fields. */
let fields: ReadFields | null | undefined;

function readFields(): ReadFields | null {
  if (fields !== undefined) return fields;
  const buffer = Buffer.alloc(1);
  const callback = (): boolean => true;
  // The constructor reads `onread` as `connect` does, though only `connect` declares it.
  const options: SocketConstructorOpts & ConnectOpts = { onread: { buffer, callback } };
  const probe = new Socket(options);
  const own = probe as unknown as Record<symbol, unknown>;
  const symbols = Object.getOwnPropertySymbols(probe);
  const holding = (value: unknown): symbol | undefined => symbols.find((s) => own[s] === value);
  const found = { buffer: holding(buffer), callback: holding(callback) };
  const generator = symbols.find((s) => s.description === 'kBufferGen' && own[s] === null);
  probe.destroy();
  fields =
    found.buffer && found.callback && generator
      ? { buffer: found.buffer, callback: found.callback, generator }
      : null;
  return fields;
}

interface ReadableHandle {
  useUserBuffer?: (buffer: Buffer) => void;
}

/** The reading end of a socket, from {@link readChunks}. */
export interface ChunkReader {
  readonly path: ReadPath;
  /**
   * Stops handing chunks over, as `pause()` stops a stream's `'data'` events: the socket is
   * still read until its `readableHighWaterMark` is held, so a peer closing with nothing
   * held is seen at once; what is held comes before the peer's end.
   */
  pause(): void;
  /** Hands over what is held (later, never within this call), then reads on. */
  resume(): void;
}

/** Reads through `'data'` events. */
class StreamReader implements ChunkReader {
  readonly path: ReadPath = 'stream';

  constructor(protected readonly socket: Socket) {}

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }
}

/**
 * Reads into the shared buffer; see {@link readChunks}. While paused, each read is pushed
 * into the socket's own stream instead, which holds it, and the peer's end behind it, as it
 * holds the reads of any paused stream, and hands it over as a `'data'` event once resumed.
 */
class BufferReader extends StreamReader {
  override readonly path: ReadPath = 'buffer';
  private paused = false;

  constructor(
    socket: Socket,
    /** Where the socket's reads land. */
    private readonly into: Buffer,
    private readonly onChunk: (chunk: Buffer) => void,
  ) {
    super(socket);
    socket.on('data', onChunk);
  }

  /** Node.js's read callback, after a read of `length` bytes: `false` stops reading. */
  readonly take = (length: number): boolean => {
    const chunk = Buffer.allocUnsafe(length);
    this.into.copy(chunk, 0, 0, length);
    if (!this.paused && this.socket.readableLength === 0) {
      this.onChunk(chunk);
      return true;
    }
    // Behind what the stream holds: false once it holds its high-water mark.
    return this.socket.push(chunk);
  };

  override pause(): void {
    this.paused = true;
    // The stream's pause, not the socket's: a socket reading into a buffer stops reading
    // when paused, and would not see its peer close.
    Readable.prototype.pause.call(this.socket);
  }

  override resume(): void {
    this.paused = false;
    super.resume();
  }
}

/**
 * Hands every chunk `socket` reads to `onChunk`, and returns the reader to pause and resume
 * by (not the socket's own `pause` and `resume`): reading into a buffer where it can, else
 * through `'data'` events.
 *
 * A socket Node.js makes with the `onread` option (only those it connects: `net.Server` has
 * no such option for those it accepts) reads into a buffer it is given and hands each read
 * to a callback, past the stream machinery every `'data'` event goes through: for small
 * requests that machinery costs more than the request itself. This sets a plain socket up
 * the same way, accepted or connected, through the fields Node.js's own constructor sets for
 * `onread`, found on a socket made with that option. Each chunk is a copy, which `onChunk`
 * may keep. Paused or not, the reader hands over what a `'data'` listener would get, in
 * the same order, with `'end'`, `'close'` and `'error'` as they would come.
 *
 * `'data'` events are used for a TLS socket, a socket that has begun to flow or holds input
 * already, one without a handle, or on a Node.js without those fields: a runtime that
 * changes them costs speed, not input.
 * @throws Error if `socket` already reads into a buffer of its own (`onread`)
 */
export function readChunks(socket: Socket, onChunk: (chunk: Buffer) => void): ChunkReader {
  const found = readFields();
  const handle = (socket as unknown as { _handle?: ReadableHandle | null })._handle;
  const own = socket as unknown as Record<symbol, unknown>;
  if (found !== null && (own[found.buffer] ?? null) !== null)
    throw new Error('this socket already reads into a buffer of its own (onread)');
  if (
    found === null ||
    typeof handle?.useUserBuffer !== 'function' ||
    (socket as { encrypted?: boolean }).encrypted === true ||
    socket.readableFlowing !== null ||
    socket.readableLength > 0
  ) {
    socket.on('data', onChunk);
    return new StreamReader(socket);
  }
  const into = (shared ??= Buffer.allocUnsafeSlow(READ_BYTES));
  const reader = new BufferReader(socket, into, onChunk);
  own[found.generator] = null;
  own[found.callback] = reader.take;
  own[found.buffer] = into;
  handle.useUserBuffer(into);
  return reader;
}
