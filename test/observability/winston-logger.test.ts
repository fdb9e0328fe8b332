// A winston logger handed to Larder as `logger`: winston's level methods take (message, ...meta), as
// console does, though a winston logger has `isLevelEnabled` and a `levels` table like pino's. The
// double below follows winston 3's Logger (lib/winston/logger.js: log, isLevelEnabled, configure, add,
// child) and createLogger's level methods (lib/winston/create-logger.js) call for call; winston itself
// is not a dependency. What a transport would receive is the `info` object written.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createCache } from '../../src/cache/create-cache.js';
import { detectLoggerStyle, LogSink } from '../../src/observability/log-sink.js';
import { sentenceLogger } from '../../src/observability/sentence-log.js';

const LEVEL = Symbol.for('level');
const SPLAT = Symbol.for('splat');
const formatRegExp = /%[scdjifoO%]/g;
const NPM_LEVELS: Record<string, number> = {
  error: 0,
  warn: 1,
  info: 2,
  http: 3,
  verbose: 4,
  debug: 5,
  silly: 6,
};

type Info = Record<string | symbol, unknown>;

/** winston 3's Logger, reduced to what decides what a transport receives. */
class WinstonLogger {
  levels: Record<string, number> = NPM_LEVELS;
  level = 'info';
  defaultMeta: Record<string, unknown> | null = null;
  readonly written: Info[] = [];
  readonly #transports: Array<{ level?: string }> = [];

  constructor(options: { level?: string; defaultMeta?: Record<string, unknown> } = {}) {
    this.configure(options);
  }

  get transports(): Array<{ level?: string }> {
    return this.#transports;
  }

  configure({ level = 'info', defaultMeta }: { level?: string; defaultMeta?: Record<string, unknown> } = {}) {
    this.defaultMeta = defaultMeta ?? null;
    this.level = level;
  }

  add(transport: { level?: string }): this {
    this.#transports.push(transport);
    return this;
  }

  child(meta: Record<string, unknown>): this {
    return Object.create(this, {
      write: { value: (info: Info) => this.write(Object.assign({}, meta, info)) },
    }) as this;
  }

  isLevelEnabled(level: string): boolean {
    const given = this.levels[level];
    const configured = this.levels[this.level];
    if (given === undefined || configured === undefined) return false;
    if (this.transports.length === 0) return configured >= given;
    return this.transports.some((t) => (this.levels[t.level ?? ''] ?? configured) >= given);
  }

  log(level: string | Info, msg?: unknown, ...splat: unknown[]): this {
    if (arguments.length === 1) {
      const info = level as Info;
      info[LEVEL] = info.level;
      this._addDefaultMeta(info);
      this.write(info);
      return this;
    }
    if (arguments.length === 2) {
      if (msg && typeof msg === 'object') {
        const info = msg as Info;
        info[LEVEL] = info.level = level;
        this._addDefaultMeta(info);
        this.write(info);
        return this;
      }
      const info: Info = { [LEVEL]: level, level, message: msg };
      this._addDefaultMeta(info);
      this.write(info);
      return this;
    }
    const [meta] = splat;
    if (typeof meta === 'object' && meta !== null) {
      const tokens = typeof msg === 'string' ? msg.match(formatRegExp) : null;
      if (!tokens) {
        const info: Info = Object.assign({}, this.defaultMeta, meta, {
          [LEVEL]: level,
          [SPLAT]: splat,
          level,
          message: msg,
        });
        if ((meta as Info).message)
          info.message = `${String(info.message)} ${String((meta as Info).message)}`;
        if ((meta as Info).stack) info.stack = (meta as Info).stack;
        this.write(info);
        return this;
      }
    }
    this.write(Object.assign({}, this.defaultMeta, { [LEVEL]: level, [SPLAT]: splat, level, message: msg }));
    return this;
  }

  write(info: Info): void {
    this.written.push(info);
  }

  _addDefaultMeta(info: Info): void {
    if (this.defaultMeta) Object.assign(info, this.defaultMeta);
  }
}

/** createLogger: a level method per level, on the logger's own derived prototype. */
function createLogger(options: { level?: string; defaultMeta?: Record<string, unknown> } = {}) {
  class DerivedLogger extends WinstonLogger {}
  const logger = new DerivedLogger(options);
  for (const level of Object.keys(logger.levels)) {
    (DerivedLogger.prototype as unknown as Record<string, unknown>)[level] = function (
      this: WinstonLogger | undefined,
      ...args: unknown[]
    ) {
      const self = this ?? logger;
      if (args.length === 1) {
        const [msg] = args as [Info | string];
        const info = ((msg as Info)?.message && (msg as Info)) || { message: msg };
        (info as Info).level = (info as Info)[LEVEL] = level;
        self._addDefaultMeta(info as Info);
        self.write(info as Info);
        return self;
      }
      if (args.length === 0) return self.log(level, '');
      return self.log(level, ...(args as [unknown, ...unknown[]]));
    };
  }
  return logger as DerivedLogger &
    Record<'debug' | 'info' | 'warn' | 'error', (...args: unknown[]) => unknown>;
}

describe('a winston logger', () => {
  it('is detected as taking (message, meta), and each line keeps its message and fields', () => {
    const logger = createLogger({ level: 'debug' });
    expect(detectLoggerStyle(logger)).toBe('console');
    new LogSink(logger).info('Cache CLEAR', { cache: 'plans', count: 3 });
    expect(logger.written).toHaveLength(1);
    expect(logger.written[0]).toMatchObject({
      level: 'info',
      message: 'Cache CLEAR',
      cache: 'plans',
      count: 3,
    });
    // A child logger (Object.create over the parent) is detected the same way.
    const child = logger.child({ requestId: 'r1' });
    expect(detectLoggerStyle(child)).toBe('console');
    // pino itself (and its children) is still pino-style.
    const real = pino({ level: 'silent' });
    expect(detectLoggerStyle(real)).toBe('pino');
    expect(detectLoggerStyle(real.child({ requestId: 'r1' }))).toBe('pino');
  });

  it('logs a cache’s lines with the message as message, the fields as meta, at the levels winston has on', async () => {
    const logger = createLogger({ level: 'debug', defaultMeta: { service: 'api' } });
    const cache = createCache<number>({ name: 'plans', logger });
    await cache.getOrSet('k', () => 1);
    const miss = logger.written.find((info) => info.message === 'Cache MISS');
    expect(miss).toMatchObject({ level: 'debug', cache: 'plans', key: 'k', service: 'api' });
    expect(logger.written.every((info) => typeof info.message === 'string')).toBe(true);
    // winston's own threshold decides: at info, no debug line is written.
    const quiet = createLogger({ level: 'info' });
    const other = createCache<number>({ name: 'quiet', logger: quiet });
    await other.getOrSet('k', () => 1);
    expect(quiet.written).toEqual([]);
    await cache.close();
    await other.close();
  });

  it('gets sentences from sentenceLogger as its message', () => {
    const logger = createLogger({ level: 'info' });
    sentenceLogger(logger).info!('Cache CLEAR', { cache: 'plans' });
    expect(logger.written).toHaveLength(1);
    expect(logger.written[0]!.message).toEqual(expect.stringContaining('Cache cleared'));
  });

  it('still takes an explicit loggerStyle over the detection', () => {
    const logger = createLogger({ level: 'info' });
    new LogSink(logger, 'pino').info('m', { f: 1 });
    // Told it is pino-style, the fields go first: winston then writes them as the message.
    expect(logger.written[0]).toMatchObject({ message: { f: 1 } });
  });
});
