// Sentence-style log lines: a Logger wrapper that rewrites Larder's operation lines (`Cache HIT`, `Cache
// MISS`, `Cache RETRY`, `Cache SET`, a failed load) into the plain sentences an application of its own
// would log at info, with the key under the application's field name and the time a load took
// (`Cache hit { userId: 123, itemCount: 3, duration: 0 }`, `Fresh data fetched and cached { …,
// duration: 245 }`: seed 002's lines). `formatLogLine` renders one as `[INFO] Cache hit { … }`.
import { assertLoggerObject, escapeControl, isFields } from './log-format.js';
import { detectLoggerStyle, quiet } from './log-sink.js';
import type { Logger, LogLevel } from './logger.js';

/** Options of {@link sentenceLogger}. */
export interface SentenceLogOptions {
  /** The field the key is written under (default `key`); seed 002 writes `userId`. */
  keyField?: string;
  /**
   * Extra fields for a hit or a stored value, read when the line is written (the value is in the cache
   * then): e.g. `(key) => ({ itemCount: view.peek(key)?.length })` with a {@link syncView}. Undefined
   * fields are left out; a describe that throws adds nothing.
   */
  describe?: (key: unknown, cache: string) => Record<string, unknown> | undefined;
  /** The sentence of a load that failed for good (default `Failed to load`). */
  failureMessage?: string;
  /**
   * Write each line as one rendered string ({@link formatLogLine}) instead of message and fields.
   * Default: true for console-style loggers (the line reads as in a terminal), false for pino-style.
   */
  render?: boolean;
  /** Time source of load durations, ms (default `performance.now`). */
  now?: () => number;
}

/** One rewritten line. */
interface Sentence {
  level: LogLevel;
  message: string;
  fields: Record<string, unknown>;
}

const LEVELS = ['debug', 'info', 'warn', 'error'] as const satisfies readonly LogLevel[];
// Loads whose end was never logged (a skipped store) must not grow the table without bound.
const MAX_PENDING = 10_000;

/** A string in single quotes, as util.inspect writes it: backslashes, quotes and control characters escaped. */
function quoted(text: string): string {
  return `'${escapeControl(text.replace(/\\/g, '\\\\').replace(/'/g, "\\'"))}'`;
}

function renderValue(value: unknown, depth: number): string {
  if (typeof value === 'string') return quoted(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value === null || typeof value !== 'object') return String(value);
  if (depth > 3) return Array.isArray(value) ? '[Array]' : '[Object]';
  if (Array.isArray(value)) {
    return value.length === 0 ? '[]' : `[ ${value.map((v) => renderValue(v, depth + 1)).join(', ')} ]`;
  }
  return renderFields(value as Record<string, unknown>, depth + 1);
}

function renderFields(fields: Record<string, unknown>, depth: number): string {
  const parts: string[] = [];
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    const label = /^[A-Za-z_$][\w$]*$/.test(name) ? name : quoted(name);
    parts.push(`${label}: ${renderValue(value, depth)}`);
  }
  return parts.length === 0 ? '{}' : `{ ${parts.join(', ')} }`;
}

/**
 * Renders a log line as `[LEVEL] message { field: value, … }`: strings in single quotes, undefined
 * fields left out, no braces when there are no fields. `formatLogLine('info', 'Cache hit', { userId:
 * 123, itemCount: 3, duration: 2 })` is `[INFO] Cache hit { userId: 123, itemCount: 3, duration: 2 }`.
 */
export function formatLogLine(level: LogLevel, message: string, fields?: Record<string, unknown>): string {
  if (!(LEVELS as readonly string[]).includes(level)) {
    throw new TypeError(`level must be one of ${LEVELS.join(', ')}, got ${String(level)}`);
  }
  const head = `[${level.toUpperCase()}] ${message}`;
  if (fields === undefined) return head;
  const body = renderFields(fields, 0);
  return body === '{}' ? head : `${head} ${body}`;
}

/**
 * Wraps a pino-style or console-style logger so Larder's operation lines come out as sentences at info:
 *
 * | Larder's line                 | written as                                                    |
 * | ----------------------------- | ------------------------------------------------------------- |
 * | `Cache HIT` (debug)           | info `Cache hit { <key>, …describe, duration }`               |
 * | `Cache MISS` (debug)          | info `Cache miss, fetching fresh data { <key> }`              |
 * | `Cache RETRY` (info)          | info `Retry attempt { attempt, maxRetries, <key> }`           |
 * | `Cache SET` after a miss      | info `Fresh data fetched and cached { <key>, …, duration }`   |
 * | `Cache SET` (a plain set)     | info `Cache set { <key>, …describe }`                         |
 * | `Cache RETRY exhausted` (warn)| warn `Retry exhausted { <key>, error }`, then the failure line |
 * | `Cache ERROR` of a load       | error `<failureMessage> { <key>, duration, error }`           |
 * | `Cache DELETE`, `CLEAR`, `PRUNE` | info `Cache invalidated`, `Cache cleared`, `Expired entries cleaned up` |
 *
 * `<key>` is the key under `keyField`; `attempt` counts attempts (the first retry is attempt 2); a
 * load's `duration` runs from its miss to its store or failure, in whole ms. Other lines pass through
 * unchanged at their own level. The wrapper asks for debug lines whenever the wrapped logger writes
 * info, since hits and misses arrive at debug.
 */
export function sentenceLogger(logger: Logger, options: SentenceLogOptions = {}): Logger {
  assertLoggerObject(logger, 'sentenceLogger(logger)');
  if (typeof options !== 'object' || options === null)
    throw new TypeError('sentenceLogger options must be an object');
  const keyField = options.keyField ?? 'key';
  if (typeof keyField !== 'string' || keyField === '')
    throw new TypeError('keyField must be a non-empty string');
  const failureMessage = options.failureMessage ?? 'Failed to load';
  if (typeof failureMessage !== 'string' || failureMessage === '') {
    throw new TypeError('failureMessage must be a non-empty string');
  }
  const { describe } = options;
  if (describe !== undefined && typeof describe !== 'function')
    throw new TypeError('describe must be a function');
  const now = options.now ?? (() => performance.now());
  if (typeof now !== 'function') throw new TypeError('now must be a function returning milliseconds');
  const pino = detectLoggerStyle(logger) === 'pino';
  const render = options.render ?? !pino;
  if (typeof render !== 'boolean') throw new TypeError('render must be a boolean');

  /** When each load in progress began (its MISS line), by cache and key. */
  const pending = new Map<string, number>();
  const slot = (f: Record<string, unknown>) => `${String(f.cache)}\u0000${typeof f.key}:${String(f.key)}`;
  const described = (f: Record<string, unknown>): Record<string, unknown> => {
    if (describe === undefined) return {};
    try {
      return describe(f.key, String(f.cache)) ?? {};
    } catch {
      return {};
    }
  };
  const loadTime = (f: Record<string, unknown>): number | undefined => {
    const at = slot(f);
    const started = pending.get(at);
    if (started === undefined) return undefined;
    pending.delete(at);
    return Math.round(now() - started);
  };
  const ms = (value: unknown) => (typeof value === 'number' ? Math.round(value) : undefined);

  const rewrite = (level: LogLevel, message: string, f: Record<string, unknown>): Sentence[] => {
    const key = { [keyField]: f.key };
    switch (message) {
      case 'Cache HIT':
        return [
          {
            level: 'info',
            message: 'Cache hit',
            fields: { ...key, ...described(f), duration: ms(f.durationMs) },
          },
        ];
      case 'Cache MISS':
        if (pending.size >= MAX_PENDING) pending.delete(pending.keys().next().value!);
        pending.set(slot(f), now());
        return [{ level: 'info', message: 'Cache miss, fetching fresh data', fields: key }];
      case 'Cache RETRY': {
        const attempt = typeof f.attempt === 'number' ? f.attempt + 1 : f.attempt;
        return [
          { level: 'info', message: 'Retry attempt', fields: { attempt, maxRetries: f.maxRetries, ...key } },
        ];
      }
      case 'Cache SET': {
        const duration = loadTime(f);
        return duration === undefined
          ? [{ level: 'info', message: 'Cache set', fields: { ...key, ...described(f) } }]
          : [
              {
                level: 'info',
                message: 'Fresh data fetched and cached',
                fields: { ...key, ...described(f), duration },
              },
            ];
      }
      case 'Cache RETRY exhausted':
        return [
          { level: 'warn', message: 'Retry exhausted', fields: { ...key, error: f.error } },
          {
            level: 'error',
            message: failureMessage,
            fields: { ...key, duration: loadTime(f), error: f.error },
          },
        ];
      case 'Cache ERROR':
        if (f.operation !== 'load') break;
        return [
          {
            level: 'error',
            message: failureMessage,
            fields: { ...key, duration: loadTime(f), error: f.error },
          },
        ];
      case 'Cache DELETE':
        return [{ level: 'info', message: 'Cache invalidated', fields: key }];
      case 'Cache CLEAR':
        return [{ level: 'info', message: 'Cache cleared', fields: {} }];
      case 'Cache PRUNE':
        return [{ level: 'info', message: 'Expired entries cleaned up', fields: { count: f.count } }];
    }
    return [{ level, message, fields: f }];
  };

  const write = (sentence: Sentence): void => {
    const out = logger[sentence.level];
    if (typeof out !== 'function') return;
    const fields: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(sentence.fields))
      if (value !== undefined) fields[name] = value;
    if (render) quiet(out.call(logger, formatLogLine(sentence.level, sentence.message, fields)));
    else if (pino) quiet(out.call(logger, fields, sentence.message));
    else quiet(out.call(logger, sentence.message, fields));
  };

  const wrapped: Logger = {};
  for (const level of LEVELS) {
    wrapped[level] = (...args: unknown[]) => {
      // The message is the first string argument whatever the style; the fields, the first object.
      const message = args.find((a) => typeof a === 'string') as string | undefined;
      if (message === undefined) return;
      for (const sentence of rewrite(level, message, args.find(isFields) ?? {})) write(sentence);
    };
  }
  if (typeof logger.isLevelEnabled === 'function') {
    const isLevelEnabled = logger.isLevelEnabled;
    // Hits and misses arrive at debug but are written at info.
    wrapped.isLevelEnabled = (level: string) =>
      isLevelEnabled.call(logger, level) || (level === 'debug' && isLevelEnabled.call(logger, 'info'));
  }
  if ('levels' in logger) (wrapped as { levels?: unknown }).levels = (logger as { levels?: unknown }).levels;
  return wrapped;
}
