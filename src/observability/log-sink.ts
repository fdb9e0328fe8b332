// LogSink: writes Larder's log lines to a pino-style `(obj, msg)` or console-style `(msg, obj)` logger.
// Whether each level is on is decided once, when the sink is built, so a disabled level costs one boolean
// test at the call site (callers check `debugOn` before building the fields object).
import type { Logger, LogLevel } from './logger.js';

/** How a logger takes its arguments: pino's `(fields, message)` or console's `(message, fields)`. */
export type LoggerStyle = 'pino' | 'console';

/**
 * Guesses the style: pino loggers expose `isLevelEnabled` or a `levels` table; anything else is
 * console-style. A winston logger has both too, but its level methods take `(message, ...meta)`, as
 * console's do: it is told apart by its `log` method with `add` and `configure` (its transports), or by
 * its `levels`, a flat table of level numbers where pino's holds `labels` and `values`.
 */
export function detectLoggerStyle(logger: Logger): LoggerStyle {
  if (isWinston(logger)) return 'console';
  return typeof logger.isLevelEnabled === 'function' || 'levels' in logger ? 'pino' : 'console';
}

/** Whether `logger` looks like a winston logger (see {@link detectLoggerStyle}). */
function isWinston(logger: Logger): boolean {
  const candidate = logger as Logger & {
    log?: unknown;
    add?: unknown;
    configure?: unknown;
    levels?: unknown;
  };
  if (typeof candidate.log !== 'function') return false;
  if (typeof candidate.add === 'function' && typeof candidate.configure === 'function') return true;
  const levels = candidate.levels;
  if (typeof levels !== 'object' || levels === null) return false;
  const values = Object.values(levels);
  return values.length > 0 && values.every((value) => typeof value === 'number');
}

function levelOn(logger: Logger | undefined, level: LogLevel): boolean {
  if (logger === undefined || typeof logger[level] !== 'function') return false;
  // pino-style loggers know their threshold; console-style ones log whatever they are given.
  if (typeof logger.isLevelEnabled === 'function') {
    try {
      return logger.isLevelEnabled(level);
    } catch {
      return true;
    }
  }
  return true;
}

/** A logger with each level's on/off state resolved up front. */
export class LogSink {
  /** Whether debug lines are written (check before building fields). */
  readonly debugOn: boolean;
  /** Whether info lines are written. */
  readonly infoOn: boolean;
  /** Whether warn lines are written. */
  readonly warnOn: boolean;
  /** Whether error lines are written. */
  readonly errorOn: boolean;
  readonly #logger: Logger | undefined;
  readonly #pino: boolean;

  constructor(logger?: Logger, style?: LoggerStyle) {
    if (logger !== undefined && (typeof logger !== 'object' || logger === null)) {
      throw new TypeError('logger must be an object with debug/info/warn/error methods');
    }
    if (style !== undefined && style !== 'pino' && style !== 'console') {
      throw new TypeError(`loggerStyle must be 'pino' or 'console', got ${String(style)}`);
    }
    this.#logger = logger;
    this.#pino = logger !== undefined && (style ?? detectLoggerStyle(logger)) === 'pino';
    this.debugOn = levelOn(logger, 'debug');
    this.infoOn = levelOn(logger, 'info');
    this.warnOn = levelOn(logger, 'warn');
    this.errorOn = levelOn(logger, 'error');
  }

  /** Writes a debug line (no-op when debug is off). */
  debug(message: string, fields: Record<string, unknown>): void {
    if (this.debugOn) this.#write('debug', message, fields);
  }

  /** Writes an info line. */
  info(message: string, fields: Record<string, unknown>): void {
    if (this.infoOn) this.#write('info', message, fields);
  }

  /** Writes a warn line. */
  warn(message: string, fields: Record<string, unknown>): void {
    if (this.warnOn) this.#write('warn', message, fields);
  }

  /** Writes an error line. */
  error(message: string, fields: Record<string, unknown>): void {
    if (this.errorOn) this.#write('error', message, fields);
  }

  #write(level: LogLevel, message: string, fields: Record<string, unknown>): void {
    const logger = this.#logger!;
    try {
      quiet(this.#pino ? logger[level]!(fields, message) : logger[level]!(message, fields));
    } catch {
      // A broken logger must never be the reason a cache call fails (or the process ends).
    }
  }
}

const ignoreRejection = (): void => {};

/**
 * Ignores the rejection of what a logger method returned, when it is a promise: an async logger whose
 * write fails would otherwise be an unhandled rejection, which ends a Node process.
 */
export function quiet(written: unknown): void {
  if (typeof (written as PromiseLike<unknown> | null | undefined)?.then === 'function')
    (written as PromiseLike<unknown>).then(undefined, ignoreRejection);
}

/** A sink that writes nothing. */
export const SILENT_LOG = new LogSink();

/**
 * The message of an unknown thrown value, for log fields. Never throws: a value that cannot be turned
 * into a string (a null-prototype object, a `message` getter or `toString` that throws or returns an
 * object) is described by its type instead.
 */
export function errorMessage(error: unknown): string {
  try {
    if (error instanceof Error) return String(error.message);
    return typeof error === 'string' ? error : String(error);
  } catch {
    try {
      return Object.prototype.toString.call(error);
    } catch {
      return `[${typeof error}]`;
    }
  }
}
