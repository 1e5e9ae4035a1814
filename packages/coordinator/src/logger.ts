import winston from 'winston';

/** Log levels a coordinator can be set to, most severe first. */
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;

/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Log line formats. */
export const LOG_FORMATS = ['pretty', 'json'] as const;

/** One of {@link LOG_FORMATS}. */
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /**
   * Least severe level written.
   * @default 'info'
   */
  readonly level?: LogLevel;
  /**
   * `pretty`: `[Component] message`, the line shape of the original coordinator;
   * `json`: one JSON object per line with `level`, `message`, `timestamp` and `component`.
   * @default 'pretty'
   */
  readonly format?: LogFormat;
  /**
   * Write nothing.
   * @default false
   */
  readonly silent?: boolean;
  /**
   * Where lines go.
   * @default process.stdout
   */
  readonly stream?: NodeJS.WritableStream;
}

const pretty = winston.format.printf((info) => {
  const component = info['component'];
  const message = String(info.message);
  return typeof component === 'string' ? `[${component}] ${message}` : message;
});

const json = winston.format.combine(winston.format.timestamp(), winston.format.json());

/**
 * A winston logger for kv servers. Give each server a child logger naming its component,
 * `logger.child({ component: 'Coordinator' })`, and its lines read
 * `[Coordinator] Started on 127.0.0.1:5000`.
 */
export function createLogger(options: LoggerOptions = {}): winston.Logger {
  const { level = 'info', format = 'pretty', silent = false, stream = process.stdout } = options;
  return winston.createLogger({
    level,
    levels: winston.config.npm.levels,
    format: format === 'json' ? json : pretty,
    silent,
    transports: [new winston.transports.Stream({ stream })],
  });
}
