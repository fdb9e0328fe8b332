// Loggers that record what they are given, in the two styles Larder accepts: console-style
// `(message, fields)` and pino-style `(fields, message)` with a level threshold.
import { vi } from 'vitest';

/** One recorded log line. */
export interface LogLine {
  level: string;
  message: string;
  fields: Record<string, any>;
}

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
/** A log level, lowest first. */
export type LogLevel = (typeof LEVELS)[number];

/** A console-style logger `(message, fields)` that records every line. */
export function consoleLogger(): {
  logger: Record<LogLevel, (message: string, fields: Record<string, any>) => void>;
  lines: LogLine[];
} {
  const lines: LogLine[] = [];
  const at = (level: LogLevel) => (message: string, fields: Record<string, any>) =>
    void lines.push({ level, message, fields });
  return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

/** A pino-style logger `(fields, message)` that records the lines at or above `level`; each method is a spy. */
export function pinoLogger(level: LogLevel): { logger: any; lines: LogLine[] } {
  const enabled = (l: LogLevel) => LEVELS.indexOf(l) >= LEVELS.indexOf(level);
  const lines: LogLine[] = [];
  const at = (l: LogLevel) =>
    vi.fn((fields: Record<string, any>, message: string) => {
      if (enabled(l)) lines.push({ level: l, message, fields });
    });
  return {
    logger: {
      levels: { values: { debug: 20, info: 30, warn: 40, error: 50 } },
      isLevelEnabled: (l: LogLevel) => enabled(l),
      debug: at('debug'),
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
    },
    lines,
  };
}
