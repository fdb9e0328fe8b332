// Log lines in the forms ported applications grep for: a Logger wrapper rewrites Larder's `Cache HIT`
// messages as `[Cache HIT] plans uuid-1` (bracketed, seed 000's HIT, MISS, SET, INVALIDATE, CLEAR and
// CONFIG) or `Cache HIT: providers_list_acme` (colon, seed 003's form). The fields object is passed on
// unchanged, beside the new message.
import { quiet } from './log-sink.js';
import type { Logger, LogLevel } from './logger.js';

// `Cache <WORD>` not already followed by a colon, so a line formatted once is not formatted again.
const CACHE_MESSAGE = /^Cache ([A-Z]+)(?![A-Z:])(.*)$/s;

// C0 and C1 control characters, DEL, and the line and paragraph separators: what ends a log line or
// drives a terminal.
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
const NAMED_ESCAPES: Readonly<Record<string, string>> = {
  '\b': '\\b',
  '\t': '\\t',
  '\n': '\\n',
  '\f': '\\f',
  '\r': '\\r',
};

/**
 * Writes the control characters of `text` as escapes, as util.inspect writes them in a string (`\n`,
 * `\x1B`; `\u2028` for the line separators). Keys, tags and patterns come from callers: written raw into
 * a log line, a line break in one would start a forged line.
 */
export function escapeControl(text: string): string {
  return text.replace(CONTROL, (c) => {
    const code = c.charCodeAt(0);
    return (
      NAMED_ESCAPES[c] ??
      (code < 0x100
        ? `\\x${code.toString(16).toUpperCase().padStart(2, '0')}`
        : `\\u${code.toString(16).toUpperCase()}`)
    );
  });
}

/** A list field's items joined with commas, control characters escaped; undefined when absent or empty. */
function list(value: unknown): string | undefined {
  return Array.isArray(value) && value.length > 0 ? escapeControl(value.join(',')) : undefined;
}

// A cache's own lines name one `cache`, `key`, `tags` or `pattern`; the admin API's and the write
// rules' name `caches` and lists of `keys`, `tags` and `patterns`, some of them empty.
function detail(fields: Record<string, unknown> | undefined): string {
  if (fields === undefined) return '';
  const parts: string[] = [];
  const named = (label: string, value: string | undefined): void => {
    if (value !== undefined) parts.push(`${label}=${value}`);
  };
  if (fields.cache !== undefined) parts.push(escapeControl(String(fields.cache)));
  const caches = list(fields.caches);
  if (caches !== undefined) parts.push(caches);
  if (fields.key !== undefined) parts.push(escapeControl(String(fields.key)));
  named('keys', list(fields.keys));
  named('tags', list(fields.tags));
  if (fields.pattern !== undefined) parts.push(`pattern=${escapeControl(String(fields.pattern))}`);
  named('patterns', list(fields.patterns));
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

/** Whether a logger argument is the fields object (a plain object, not an array or null). */
export function isFields(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Rewrites one of Larder's log messages into the colon form: `Cache HIT` with fields
 * `{ cache: 'subscriptions', key: 'providers_list_acme' }` becomes `Cache HIT: providers_list_acme`
 * (the key alone, as a service with a single cache logs it). A line without a key names what it acted on
 * instead: `Cache INVALIDATE: pattern=plans_list_acme_* count=2`, `Cache CLEAR: subscriptions`,
 * `Cache CONFIG: subscriptions ttl=10m`. Messages that do not start with `Cache <WORD>` are returned unchanged.
 */
export function formatColon(message: string, fields?: Record<string, unknown>): string {
  const match = CACHE_MESSAGE.exec(message);
  if (match === null) return message;
  const rest = match[2] ?? '';
  let subject: string;
  if (fields?.key !== undefined) subject = ` ${escapeControl(String(fields.key))}`;
  // Without a key, the cache's name is printed only when nothing narrower (keys, tags, patterns) is known.
  else if (
    fields !== undefined &&
    ['keys', 'tags', 'pattern', 'patterns'].some((name) => fields[name] !== undefined)
  )
    subject = detail({ ...fields, cache: undefined, caches: undefined });
  else subject = detail(fields);
  return `Cache ${match[1]}:${subject}${rest}`;
}

/** Throws a TypeError naming `wrapper` unless `logger` is an object (the logger wrappers' first check). */
export function assertLoggerObject(logger: unknown, wrapper: string): asserts logger is Logger {
  if (typeof logger !== 'object' || logger === null) {
    throw new TypeError(`${wrapper} needs an object with debug/info/warn/error methods`);
  }
}

/**
 * Wraps a pino-style or console-style logger so every Larder line it receives is rewritten by `format`
 * (such as {@link formatBracketed} or {@link formatColon}), with the fields object still passed along.
 * Level checks (`isLevelEnabled`) and pino's `levels` are kept, so the cache detects the same style and
 * thresholds as for the wrapped logger. Give the result as a cache's or manager's `logger`.
 */
export function formattedLogger(
  logger: Logger,
  format: (message: string, fields?: Record<string, unknown>) => string,
): Logger {
  assertLoggerObject(logger, 'the logger to format');
  if (typeof format !== 'function')
    throw new TypeError('format must be a function (message, fields) => string');
  const wrapped: Logger = {};
  for (const level of ['debug', 'info', 'warn', 'error'] as const satisfies readonly LogLevel[]) {
    const write = logger[level];
    if (typeof write !== 'function') continue;
    wrapped[level] = (...args: unknown[]) => {
      // The message is the first string argument whatever the style; the fields, the first object.
      const at = args.findIndex((a) => typeof a === 'string');
      if (at >= 0) args[at] = format(args[at] as string, args.find(isFields) as never);
      quiet(write.apply(logger, args));
    };
  }
  if (typeof logger.isLevelEnabled === 'function') {
    const isLevelEnabled = logger.isLevelEnabled;
    wrapped.isLevelEnabled = (level: string) => isLevelEnabled.call(logger, level);
  }
  if ('levels' in logger) (wrapped as { levels?: unknown }).levels = (logger as { levels?: unknown }).levels;
  return wrapped;
}

/**
 * Writes Larder's lines in the bracketed form of {@link formatBracketed} (e.g. `[Cache MISS] plans
 * uuid-1`), seed 000's: `createCache({ logger: bracketedLogger(console) })`.
 */
export function bracketedLogger(logger: Logger): Logger {
  assertLoggerObject(logger, 'bracketedLogger(logger)');
  return formattedLogger(logger, formatBracketed);
}

/**
 * Writes Larder's lines in the colon form of {@link formatColon} (e.g. `Cache HIT: providers_list_acme`),
 * seed 003's: `createCache({ logger: colonLogger(pino) })`.
 */
export function colonLogger(logger: Logger): Logger {
  assertLoggerObject(logger, 'colonLogger(logger)');
  return formattedLogger(logger, formatColon);
}
