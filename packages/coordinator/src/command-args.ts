import { ErrorCode, ReplyError, quoteArg as quote } from '@kv/protocol';
import { MAX_WEIGHT } from '@kv/ring';
import type { RegisterOptions } from './membership';

/** Longest host name or zone accepted, in bytes. */
export const MAX_NAME_BYTES = 255;

// Whitespace and control characters would make ids ambiguous on inline command lines and
// split log lines.
const BAD_NAME_CHAR = /[\s\p{Cc}]/u;
const DECIMAL = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A `-WRONGARGS` reply to throw from a command. */
export function wrongArgs(message: string): ReplyError {
  return new ReplyError(`${ErrorCode.WRONGARGS} ${message}`);
}

/**
 * The node id `host:port` of `host port` arguments.
 * @throws a `-WRONGARGS` {@link ReplyError} for an empty or over-long host, a host with
 *   spaces or control characters, or a port that is not an integer from 1 to 65535
 */
export function nodeId(host: Buffer, port: Buffer): string {
  return `${hostArg(host)}:${portArg(port)}`;
}

function hostArg(arg: Buffer): string {
  const host = arg.toString('utf8');
  if (arg.length === 0 || arg.length > MAX_NAME_BYTES || BAD_NAME_CHAR.test(host)) {
    throw wrongArgs(
      `invalid host ${quote(host)}: expected 1 to ${MAX_NAME_BYTES} bytes without spaces or control characters`,
    );
  }
  return host;
}

function portArg(arg: Buffer): number {
  const text = arg.toString('latin1');
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 1 && port <= 65535)) {
    throw wrongArgs(`invalid port ${quote(arg)}: expected an integer from 1 to 65535`);
  }
  return port;
}

/**
 * The `[ZONE z] [WEIGHT w] [JOINING]` options of REGISTER_NODE, in any order, option words
 * in any case. An omitted option takes its default: registering is a statement of the node's
 * whole configuration.
 *
 * @throws a `-WRONGARGS` {@link ReplyError} for an unknown or repeated option word, an
 *   option without its value, a zone with spaces or control characters, or a weight that
 *   is not a decimal number greater than 0 and at most {@link MAX_WEIGHT}
 */
export function registerOptions(args: readonly Buffer[]): RegisterOptions {
  let zone: string | undefined;
  let weight: number | undefined;
  let joining = false;
  for (let i = 0; i < args.length; i += 2) {
    const word = (args[i] as Buffer).toString('latin1').toUpperCase();
    if (word === 'JOINING') {
      if (joining) throw wrongArgs('JOINING given twice');
      joining = true;
      i--;
      continue;
    }
    const value = args[i + 1];
    if (word !== 'ZONE' && word !== 'WEIGHT') {
      throw wrongArgs(
        `unknown option ${quote(args[i] as Buffer)}: REGISTER_NODE takes ZONE zone, WEIGHT weight and JOINING`,
      );
    }
    if (value === undefined) throw wrongArgs(`${word} needs a value`);
    if ((word === 'ZONE' ? zone : weight) !== undefined) throw wrongArgs(`${word} given twice`);
    if (word === 'ZONE') zone = zoneArg(value);
    else weight = weightArg(value);
  }
  return {
    ...(zone !== undefined && { zone }),
    ...(weight !== undefined && { weight }),
    ...(joining && { joining }),
  };
}

function zoneArg(arg: Buffer): string {
  const zone = arg.toString('utf8');
  if (arg.length > MAX_NAME_BYTES || BAD_NAME_CHAR.test(zone)) {
    throw wrongArgs(
      `invalid zone ${quote(zone)}: expected at most ${MAX_NAME_BYTES} bytes without spaces or control characters`,
    );
  }
  return zone;
}

function weightArg(arg: Buffer): number {
  const text = arg.toString('latin1');
  const weight = DECIMAL.test(text) ? Number(text) : NaN;
  if (!(Number.isFinite(weight) && weight > 0 && weight <= MAX_WEIGHT)) {
    throw wrongArgs(
      `invalid weight ${quote(arg)}: expected a number greater than 0 and at most ${MAX_WEIGHT}`,
    );
  }
  return weight;
}
