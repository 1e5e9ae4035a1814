import type { CommandContext } from './command-context';
import { tooLarge, wrongArgs } from './errors';

/** An option word as sent, upper case ('' when absent). */
export function upper(arg: Buffer | undefined): string {
  return arg === undefined ? '' : arg.toString('latin1').toUpperCase();
}

/** Most digits an integer argument may have: any 15-digit number is a safe integer. */
const MAX_DIGITS = 15;

/**
 * An integer argument of at least `min` (`-Infinity` for any sign).
 * @throws ReplyError `WRONGARGS` naming `what` for anything else
 */
export function integerArg(arg: Buffer | undefined, what: string, min = 0): number {
  const text = arg?.toString('latin1') ?? '';
  const digits = /^-?(\d+)$/.exec(text)?.[1];
  const bound = min === -Infinity ? '' : ` ≥ ${min}`;
  if (digits === undefined || (digits.length <= MAX_DIGITS && Number(text) < min))
    throw wrongArgs(`${what} must be an integer${bound}, got '${text}'`);
  if (digits.length > MAX_DIGITS)
    throw wrongArgs(`${what} is out of range (at most ${MAX_DIGITS} digits), got '${text}'`);
  return Number(text);
}

/** @throws ReplyError `TOOLARGE` for a key over the node's key size limit */
export function checkKey(key: Buffer, ctx: CommandContext): void {
  if (key.length > ctx.maxKeyBytes)
    throw tooLarge(`key of ${key.length} bytes exceeds the limit of ${ctx.maxKeyBytes} bytes`);
}

/** Splits `key ... [W n]` / `[R n]`: the trailing consistency option, if present. */
export function trailingQuorum(
  args: Buffer[],
  from: number,
  letter: 'W' | 'R',
): { keys: Buffer[]; quorum: number | undefined } {
  const rest = args.slice(from);
  if (rest.length >= 3 && upper(rest[rest.length - 2]) === letter) {
    return { keys: rest.slice(0, -2), quorum: integerArg(rest[rest.length - 1], letter, 1) };
  }
  return { keys: rest, quorum: undefined };
}

/** Most keys one multi-key command may name: each is a quorum operation of its own. */
export const MAX_KEYS_PER_COMMAND = 1024;

/**
 * Checks the keys of a multi-key command: how many, and each one's size.
 * @throws ReplyError `TOOLARGE` for more than {@link MAX_KEYS_PER_COMMAND} keys or a key too large
 */
export function checkKeys(keys: readonly Buffer[], command: string, ctx: CommandContext): void {
  if (keys.length > MAX_KEYS_PER_COMMAND)
    throw tooLarge(
      `${command} names ${keys.length} keys, at most ${MAX_KEYS_PER_COMMAND} per command: send them in batches`,
    );
  for (const key of keys) checkKey(key, ctx);
}
