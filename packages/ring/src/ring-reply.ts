import { InvalidRingReplyError } from './errors';
import { Ring } from './ring';
import { RingEpoch } from './ring-epoch';

/**
 * The rings a server publishes at one epoch, for {@link encodeRingReply}: a
 * {@link RingEpoch}, or rings given as their JSON text (`JSON.stringify(ring.toJSON())`)
 * when the server keeps them so.
 */
export interface RingReplySource {
  readonly epoch: number;
  /** The ring reads are routed by. */
  readonly read: Ring | string;
  /** The ring placement is heading to while a node joins or leaves; left out when it is `read`. */
  readonly target?: Ring | string;
}

/** The elements of a `RING` reply: integers, and strings a RESP server sends as bulk strings. */
export type RingReplyValues =
  | readonly [epoch: number]
  | readonly [epoch: number, read: string]
  | readonly [epoch: number, read: string, target: string];

// A ring is immutable, so its JSON is made once however many askers fetch it: at a
// thousand members that is one serialisation per epoch instead of one per node.
const serialised = new WeakMap<Ring, string>();

function serialise(ring: Ring | string): string {
  if (typeof ring === 'string') return ring;
  let json = serialised.get(ring);
  if (json === undefined) {
    json = JSON.stringify(ring.toJSON());
    serialised.set(ring, json);
  }
  return json;
}

/**
 * The reply to `RING [known-epoch]`: `[epoch]` alone when the asker already holds the
 * epoch, else `[epoch, ring JSON]`, plus the target ring's JSON while it differs.
 */
export function encodeRingReply(source: RingReplySource, knownEpoch?: number): RingReplyValues {
  const { epoch, read, target } = source;
  if (knownEpoch === epoch) return [epoch];
  return target === undefined || target === read
    ? [epoch, serialise(read)]
    : [epoch, serialise(read), serialise(target)];
}

/** The rings a reader holds from an earlier reply: a {@link RingEpoch}, or its read ring alone. */
export interface HeldRings {
  readonly read: Ring;
  readonly target?: Ring;
}

const UTF8 = new TextDecoder();

function ringOf(value: unknown, what: string, basis: Ring | undefined): Ring {
  if (typeof value !== 'string' && !(value instanceof Uint8Array))
    throw new InvalidRingReplyError(`the ${what} is not a bulk string`);
  try {
    return Ring.fromJSON(JSON.parse(typeof value === 'string' ? value : UTF8.decode(value)), basis);
  } catch (err) {
    throw new InvalidRingReplyError(err instanceof Error ? err.message : String(err), {
      cause: err,
    });
  }
}

/**
 * Reads a `RING` reply as received (an array of an integer and bulk strings, as Uint8Arrays
 * or strings) into the epoch it describes; its target is its read ring when the reply has
 * none. With `knownEpoch`, `[knownEpoch]` alone means "unchanged" and gives undefined.
 * Elements past the target ring are ignored, so servers may add some later.
 *
 * Given the epoch the reader held before (`previous`), each ring is derived from the
 * nearest of its rings (see {@link Ring.withMembers}) instead of being built from scratch:
 * a reader applies a membership change in about the time the change itself takes.
 *
 * @throws {@link InvalidRingReplyError} for anything else, a ring JSON that does not parse,
 *   a ring that cannot be built and a negative epoch included
 */
export function decodeRingReply(
  reply: unknown,
  knownEpoch?: undefined,
  previous?: HeldRings,
): RingEpoch;
export function decodeRingReply(
  reply: unknown,
  knownEpoch: number,
  previous?: HeldRings,
): RingEpoch | undefined;
export function decodeRingReply(
  reply: unknown,
  knownEpoch?: number,
  previous?: HeldRings,
): RingEpoch | undefined {
  if (!Array.isArray(reply) || typeof reply[0] !== 'number')
    throw new InvalidRingReplyError('expected [epoch, ring]');
  const epoch = reply[0];
  if (reply.length === 1) {
    if (epoch === knownEpoch) return undefined;
    throw new InvalidRingReplyError(`epoch ${epoch} without a ring`);
  }
  const read = ringOf(reply[1], 'ring', previous?.read);
  // While a node moves, the new target ring is usually the old target ring, or next to it.
  const target =
    reply[2] === undefined ? read : ringOf(reply[2], 'target ring', previous?.target ?? read);
  try {
    return new RingEpoch(epoch, read, target);
  } catch (err) {
    throw new InvalidRingReplyError((err as Error).message, { cause: err });
  }
}
