import { Writable } from 'node:stream';
import type { Logger } from 'winston';
import { createLogger, type LoggerOptions } from '../logger';

/** A logger (debug level unless told otherwise) whose lines are kept in `lines`. */
export function capturingLogger(options: LoggerOptions = {}): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      callback();
    },
  });
  return { logger: createLogger({ level: 'debug', ...options, stream }), lines };
}
