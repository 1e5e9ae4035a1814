import { integerArg, upper } from './command-args';
import { wrongArgs } from './errors';
import { MAX_EXPIRES_AT } from './record';

/** What PUT/SET's options ask for. */
export interface PutOptions {
  /** Absolute expiry in milliseconds since the epoch; 0 for none. */
  readonly expiresAt: number;
  /** KEEPTTL: keep the expiry the key has (read first). */
  readonly keepTtl: boolean;
  /** NX: write only if the key holds no value; XX: only if it holds one. */
  readonly condition: 'NX' | 'XX' | undefined;
  /** W n. */
  readonly w: number | undefined;
}

const USAGE = 'PUT key value [EX seconds|PX milliseconds|KEEPTTL] [NX|XX] [W n]';

/** SET's GET option, refused: it returns the old value and replaces it as one step. */
const GET_REFUSED =
  "SET's GET option is not supported: it returns the old value and replaces it as one atomic step, which last-writer-wins replication cannot give (two concurrent SET ... GET could both get the same old value); GET, then SET, where that race is acceptable";

/** A PUT with no option: one shared answer, as most writes are. */
const NO_OPTIONS: PutOptions = Object.freeze({
  expiresAt: 0,
  keepTtl: false,
  condition: undefined,
  w: undefined,
});

/**
 * Reads the options of `PUT key value ...` (from `args[3]`), as Redis's SET takes them.
 * @param clock - what EX and PX count from (asked only when one of them is given)
 * @throws ReplyError `WRONGARGS` for an unknown, repeated or conflicting option or a bad value
 */
export function parsePutOptions(args: Buffer[], clock: { now(): number }): PutOptions {
  if (args.length <= 3) return NO_OPTIONS;
  let expiry: string | undefined;
  let expiresAt = 0;
  let condition: 'NX' | 'XX' | undefined;
  let w: number | undefined;
  for (let i = 3; i < args.length; i++) {
    const option = upper(args[i]);
    if (option === 'NX' || option === 'XX') {
      if (condition !== undefined && condition !== option)
        throw wrongArgs('NX and XX cannot be given together');
      condition = option;
      continue;
    }
    if (option === 'KEEPTTL') {
      if (expiry !== undefined) throw wrongArgs(`${expiry} and KEEPTTL cannot be given together`);
      expiry = option;
      continue;
    }
    if (option === 'GET') throw wrongArgs(GET_REFUSED);
    if (option !== 'EX' && option !== 'PX' && option !== 'W')
      throw wrongArgs(`unsupported option '${args[i]?.toString() ?? ''}' (${USAGE})`);
    if (i + 1 >= args.length) throw wrongArgs(`option ${option} needs a value`);
    const value = args[++i];
    if (option === 'W') {
      w = integerArg(value, 'W', 1);
      continue;
    }
    // As Redis: one expiry per command, and none past what a record can carry.
    if (expiry === 'KEEPTTL') throw wrongArgs(`${option} and KEEPTTL cannot be given together`);
    if (expiry !== undefined) throw wrongArgs('EX and PX cannot be given together');
    expiry = option;
    expiresAt =
      option === 'EX'
        ? clock.now() + integerArg(value, 'EX seconds', 1) * 1000
        : clock.now() + integerArg(value, 'PX milliseconds', 1);
    if (!(expiresAt <= MAX_EXPIRES_AT)) throw wrongArgs(`invalid expire time in '${option}'`);
  }
  return { expiresAt, keepTtl: expiry === 'KEEPTTL', condition, w };
}
