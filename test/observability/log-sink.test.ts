import { describe, expect, it, vi } from 'vitest';
import { createCache } from '../../src/cache/create-cache.js';
import { bracketedLogger } from '../../src/observability/log-format.js';
import { detectLoggerStyle, LogSink } from '../../src/observability/log-sink.js';
import { sentenceLogger } from '../../src/observability/sentence-log.js';

describe('LogSink', () => {
  it('detects pino-style loggers by isLevelEnabled or levels, otherwise console-style', () => {
    expect(detectLoggerStyle({ isLevelEnabled: () => true })).toBe('pino');
    expect(detectLoggerStyle({ levels: {} } as any)).toBe('pino');
    expect(detectLoggerStyle(console)).toBe('console');
  });

  it('decides each level once: pino thresholds via isLevelEnabled, console by method presence', () => {
    const isLevelEnabled = vi.fn((l: string) => l !== 'debug');
    const pino = new LogSink({
      isLevelEnabled,
      debug: vi.fn(),
      info: vi.fn(),
      warn: vi.fn(),
      error: vi.fn(),
    });
    expect([pino.debugOn, pino.infoOn, pino.warnOn, pino.errorOn]).toEqual([false, true, true, true]);
    expect(isLevelEnabled).toHaveBeenCalledTimes(4);
    pino.info('x', { a: 1 });
    expect(isLevelEnabled).toHaveBeenCalledTimes(4);
    const partial = new LogSink({ warn: vi.fn() });
    expect([partial.debugOn, partial.infoOn, partial.warnOn, partial.errorOn]).toEqual([
      false,
      false,
      true,
      false,
    ]);
    expect(new LogSink().debugOn).toBe(false);
  });

  it('passes (fields, message) to pino-style and (message, fields) to console-style loggers', () => {
    const pinoInfo = vi.fn();
    new LogSink({ isLevelEnabled: () => true, info: pinoInfo }).info('Cache HIT', { key: 'k' });
    expect(pinoInfo).toHaveBeenCalledWith({ key: 'k' }, 'Cache HIT');
    const consoleInfo = vi.fn();
    new LogSink({ info: consoleInfo }).info('Cache HIT', { key: 'k' });
    expect(consoleInfo).toHaveBeenCalledWith('Cache HIT', { key: 'k' });
    const forced = vi.fn();
    new LogSink({ info: forced }, 'pino').info('m', { f: 1 });
    expect(forced).toHaveBeenCalledWith({ f: 1 }, 'm');
  });

  it('keeps the logger as `this` and swallows a throwing logger', () => {
    const logger = {
      lines: [] as string[],
      warn(this: { lines: string[] }, msg: string) {
        this.lines.push(msg);
      },
      error() {
        throw new Error('broken logger');
      },
    };
    const sink = new LogSink(logger);
    sink.warn('w', {});
    expect(logger.lines).toEqual(['w']);
    expect(() => sink.error('e', {})).not.toThrow();
  });

  it('rejects a non-object logger and an unknown style', () => {
    expect(() => new LogSink('console' as any)).toThrow(/logger/);
    expect(() => new LogSink({}, 'winston' as any)).toThrow(/loggerStyle/);
  });
  it('swallows the rejection of an async logger, so a failing log transport cannot crash the process', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      let calls = 0;
      const sink = new LogSink({
        warn: async () => {
          calls++;
          throw new Error('log transport down');
        },
      });
      sink.warn('Cache STALE', { cache: 'c' });
      expect(calls).toBe(1);
      // Unhandled rejections are reported after the microtask queue drains, before the next macrotask.
      await new Promise<void>((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
  it('swallows it too through bracketedLogger and sentenceLogger, on a real cache', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      let calls = 0;
      const failing = async (): Promise<void> => {
        calls++;
        throw new Error('log transport down');
      };
      const base = { debug: failing, info: failing, warn: failing, error: failing };
      for (const logger of [bracketedLogger(base), sentenceLogger(base)]) {
        const cache = createCache<string>({ name: 'c', logger });
        expect(await cache.getOrSet('k', () => 'v')).toBe('v');
        await cache.close();
      }
      expect(calls).toBeGreaterThan(1);
      await new Promise<void>((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
