import { createLogger as createWinston, format, transports, type Logger } from 'winston';

/** How log lines look: `pretty` for people (`[Node 5001] Started on ...`), `json` for machines. */
export type LogFormat = 'pretty' | 'json';

/** Log levels, most to least severe. */
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Options of {@link createNodeLogger}. */
export interface LoggerOptions {
  /** Prefix of pretty lines, e.g. `Node 5001`. */
  label: string;
  /** @default 'info' */
  level?: LogLevel;
  /** @default 'pretty' */
  format?: LogFormat;
  /** Drop every line (tests). @default false */
  silent?: boolean;
}

/** A winston logger writing to stderr: errors and warnings go there as well as info. */
export function createNodeLogger(options: LoggerOptions): Logger {
  const pretty = format.printf(({ level, message }) => {
    const text = `[${options.label}] ${String(message)}`;
    return level === 'info' || level === 'debug' ? text : `${text} (${level})`;
  });
  return createWinston({
    level: options.level ?? 'info',
    silent: options.silent ?? false,
    defaultMeta: options.format === 'json' ? { component: options.label } : undefined,
    format: options.format === 'json' ? format.combine(format.timestamp(), format.json()) : pretty,
    transports: [new transports.Console({ stderrLevels: ['error', 'warn'] })],
  });
}
