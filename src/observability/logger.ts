// The logger contract: anything pino-style (`logger.debug(obj, msg)`) or console-style
// (`console.debug(msg, obj)`; winston's level methods take their arguments this way too). Nothing is
// logged unless a logger is given.

/** A pino-style or console-style logger; every method is optional. */
export interface Logger {
  debug?: (...args: any[]) => void;
  info?: (...args: any[]) => void;
  warn?: (...args: any[]) => void;
  error?: (...args: any[]) => void;
  /** pino exposes its level; when present, `isLevelEnabled` is used to skip disabled levels. */
  isLevelEnabled?: (level: string) => boolean;
}

/** Log levels Larder uses. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
