// Bracketed log lines: a Logger wrapper that turns Larder's `Cache HIT` style messages into the
// `[Cache HIT] plans uuid-1` form some applications grep for (seed 000 lists HIT, MISS, SET,
// INVALIDATE, CLEAR and CONFIG). The fields object is passed on unchanged, beside the new message.
import type { Logger, LogLevel } from './logger.js';

const CACHE_MESSAGE = /^Cache ([A-Z]+)(.*)$/s;

function detail(fields: Record<string, unknown> | undefined): string {
  if (fields === undefined) return '';
  const parts: string[] = [];
  if (fields.cache !== undefined) parts.push(String(fields.cache));
  if (fields.key !== undefined) parts.push(String(fields.key));
  if (Array.isArray(fields.tags)) parts.push(`tags=${fields.tags.join(',')}`);
  if (fields.pattern !== undefined) parts.push(`pattern=${String(fields.pattern)}`);
  if (typeof fields.count === 'number') parts.push(`count=${fields.count}`);
  if (typeof fields.ttl === 'number' || typeof fields.ttl === 'string') parts.push(`ttl=${fields.ttl}`);
  if (typeof fields.enabled === 'boolean') parts.push(`enabled=${fields.enabled}`);
  return parts.length === 0 ? '' : ` ${parts.join(' ')}`;
}

/**
 * Rewrites one of Larder's log messages into the bracketed form: `Cache HIT` with fields
 * `{ cache: 'plans', key: 'uuid-1' }` becomes `[Cache HIT] plans uuid-1`; invalidations add
 * `tags=…`/`pattern=…` and `count=…`, CONFIG adds the changed `ttl`/`enabled`. Any text after the
 * operation word is kept (`Cache REFRESH failed` → `[Cache REFRESH] failed …`). Messages that do not
 * start with `Cache <WORD>` are returned unchanged.
 */
export function formatBracketed(message: string, fields?: Record<string, unknown>): string {
  const match = CACHE_MESSAGE.exec(message);
  if (match === null) return message;
  const rest = match[2] ?? '';
  return `[Cache ${match[1]}]${rest}${detail(fields)}`;
}

function isFields(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Wraps a pino-style or console-style logger so every Larder line it receives is written in the
 * bracketed form of {@link formatBracketed} (e.g. `[Cache MISS] plans uuid-1`), with the fields object
 * still passed along. Level checks (`isLevelEnabled`) and pino's `levels` are kept, so the cache detects
 * the same style and thresholds as for the wrapped logger. Give the result as a cache's or manager's
 * `logger`: `createCache({ logger: bracketedLogger(console) })`.
 */
export function bracketedLogger(logger: Logger): Logger {
  if (typeof logger !== 'object' || logger === null) {
    throw new TypeError('bracketedLogger(logger) needs an object with debug/info/warn/error methods');
  }
  const wrapped: Logger = {};
  for (const level of ['debug', 'info', 'warn', 'error'] as const satisfies readonly LogLevel[]) {
    const write = logger[level];
    if (typeof write !== 'function') continue;
    wrapped[level] = (...args: unknown[]) => {
      // The message is the first string argument whatever the style; the fields, the first object.
      const at = args.findIndex((a) => typeof a === 'string');
      if (at >= 0) args[at] = formatBracketed(args[at] as string, args.find(isFields) as never);
      write.apply(logger, args);
    };
  }
  if (typeof logger.isLevelEnabled === 'function') {
    const isLevelEnabled = logger.isLevelEnabled;
    wrapped.isLevelEnabled = (level: string) => isLevelEnabled.call(logger, level);
  }
  if ('levels' in logger) (wrapped as { levels?: unknown }).levels = (logger as { levels?: unknown }).levels;
  return wrapped;
}
