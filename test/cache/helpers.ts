// Test helpers for the facade: a manual clock, a recording logger in either style, and a deferred.
import { vi } from 'vitest';

/** A clock the test moves by hand. */
export function manualClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms;
    },
  };
}

/** One recorded log line. */
export interface LogLine {
  level: string;
  message: string;
  fields: Record<string, any>;
}

/** A console-style logger `(msg, fields)` that records lines. */
export function consoleLogger(): { logger: any; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: string) => (message: string, fields: Record<string, any>) =>
    lines.push({ level, message, fields });
  return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

/** A pino-style logger `(fields, msg)` with a level threshold. */
export function pinoLogger(level: 'debug' | 'info' | 'warn' | 'error'): { logger: any; lines: LogLine[] } {
  const order = ['debug', 'info', 'warn', 'error'];
  const lines: LogLine[] = [];
  const at = (l: string) =>
    vi.fn((fields: Record<string, any>, message: string) => {
      if (order.indexOf(l) >= order.indexOf(level)) lines.push({ level: l, message, fields });
    });
  return {
    logger: {
      levels: { values: { debug: 20, info: 30, warn: 40, error: 50 } },
      isLevelEnabled: (l: string) => order.indexOf(l) >= order.indexOf(level),
      debug: at('debug'),
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
    },
    lines,
  };
}

/** A promise with its resolve/reject exposed. */
export function deferred<T>(): {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
} {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** An error carrying a network code, as Node reports them. */
export function codeError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 10.0.0.1:443`), { code });
}
