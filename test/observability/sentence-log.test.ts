// sentenceLogger and formatLogLine: Larder's operation lines rewritten as info-level sentences with
// the key under the application's name and load durations; rendered lines in `[LEVEL] message { … }`.
import { describe, expect, it } from 'vitest';
import { createCache } from '../../src/cache/create-cache.js';
import { syncView, type SyncCacheView } from '../../src/cache/sync-view.js';
import { formatLogLine, sentenceLogger } from '../../src/observability/sentence-log.js';
import { manualClock } from '../helpers/clock.js';
import { consoleLogger, pinoLogger } from '../helpers/logger.js';

const refused = () => Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), { code: 'ECONNREFUSED' });

describe('formatLogLine', () => {
  it('renders level, message and fields, strings quoted, undefined left out', () => {
    expect(formatLogLine('info', 'Cache hit', { userId: 123, itemCount: 3, duration: 2 })).toBe(
      '[INFO] Cache hit { userId: 123, itemCount: 3, duration: 2 }',
    );
    expect(formatLogLine('error', 'Failed', { error: "it's down", skip: undefined, tags: ['a'] })).toBe(
      "[ERROR] Failed { error: 'it\\'s down', tags: [ 'a' ] }",
    );
    expect(formatLogLine('warn', 'Cache cleared', {})).toBe('[WARN] Cache cleared');
    expect(formatLogLine('debug', 'x', { 'a-b': { c: null } })).toBe("[DEBUG] x { 'a-b': { c: null } }");
    expect(() => formatLogLine('trace' as never, 'x')).toThrow(/level must be one of/);
  });
});

describe('sentenceLogger', () => {
  it('writes a load as miss, retry attempts (numbered from 2), then fresh data with its duration', async () => {
    const { logger, lines } = pinoLogger('info');
    const clock = manualClock(0);
    // describe reads the value through a view of the cache built just below.
    const ref: { view?: SyncCacheView<string[]> } = {};
    const cache = createCache<string[]>({
      ttl: '5m',
      logger: sentenceLogger(logger, {
        keyField: 'userId',
        now: clock.now,
        describe: (key) => ({ itemCount: ref.view?.peek(key as number)?.length }),
      }),
      retry: { initialDelay: 1, maxDelay: 1, jitter: 0 },
    });
    ref.view = syncView(cache);
    let calls = 0;
    const fetch = async () => {
      clock.advance(100);
      if (++calls < 3) throw refused();
      return ['a', 'b', 'c'];
    };
    expect(await cache.getOrSet(123, fetch)).toHaveLength(3);
    expect(await cache.getOrSet(123, fetch)).toHaveLength(3);
    expect(lines).toEqual([
      { level: 'info', message: 'Cache miss, fetching fresh data', fields: { userId: 123 } },
      { level: 'info', message: 'Retry attempt', fields: { attempt: 2, maxRetries: 3, userId: 123 } },
      { level: 'info', message: 'Retry attempt', fields: { attempt: 3, maxRetries: 3, userId: 123 } },
      {
        level: 'info',
        message: 'Fresh data fetched and cached',
        fields: { userId: 123, itemCount: 3, duration: 300 },
      },
      { level: 'info', message: 'Cache hit', fields: { userId: 123, itemCount: 3, duration: 0 } },
    ]);
    await cache.close();
  });

  it('renders lines for a console-style logger, and reports a failed load at warn and error', async () => {
    const { logger, lines } = consoleLogger();
    const cache = createCache<string[]>({
      ttl: '5m',
      logger: sentenceLogger(logger, { keyField: 'userId', failureMessage: 'Failed to get it' }),
      retry: { maxRetries: 1, initialDelay: 1, jitter: 0 },
    });
    await expect(cache.getOrSet(7, async () => Promise.reject(refused()))).rejects.toThrow();
    await expect(cache.getOrSet(8, async () => Promise.reject(new Error('bad input')))).rejects.toThrow();
    const text = lines.map((l) => `${l.level} ${l.message}`);
    expect(text).toEqual([
      'info [INFO] Cache miss, fetching fresh data { userId: 7 }',
      'info [INFO] Retry attempt { attempt: 2, maxRetries: 1, userId: 7 }',
      "warn [WARN] Retry exhausted { userId: 7, error: 'connect ECONNREFUSED 10.0.0.1:443' }",
      expect.stringMatching(
        /^error \[ERROR\] Failed to get it \{ userId: 7, duration: \d+, error: 'connect ECONNREFUSED 10\.0\.0\.1:443' \}$/,
      ),
      'info [INFO] Cache miss, fetching fresh data { userId: 8 }',
      expect.stringMatching(
        /^error \[ERROR\] Failed to get it \{ userId: 8, duration: \d+, error: .*bad input/,
      ),
    ]);
    await cache.close();
  });

  it('writes plain sets, deletes and clears as sentences and passes other lines through', async () => {
    const { logger, lines } = pinoLogger('debug');
    const cache = createCache<number>({ ttl: '1m', logger: sentenceLogger(logger) });
    await cache.set('a', 1);
    await cache.delete('a');
    await cache.clear();
    cache.configure({ ttl: '2m' });
    expect(lines.map((l) => [l.level, l.message, l.fields])).toEqual([
      ['info', 'Cache set', { key: 'a' }],
      ['info', 'Cache invalidated', { key: 'a' }],
      ['info', 'Cache cleared', {}],
      ['debug', 'Cache CONFIG', expect.objectContaining({ ttl: '2m' })],
    ]);
    await cache.close();
  });

  it('asks for debug lines when the wrapped logger writes info, and not below its threshold', () => {
    const { logger } = pinoLogger('info');
    const wrapped = sentenceLogger(logger);
    expect(wrapped.isLevelEnabled!('debug')).toBe(true);
    expect(wrapped.isLevelEnabled!('info')).toBe(true);
    const { logger: quiet } = pinoLogger('error');
    expect(sentenceLogger(quiet).isLevelEnabled!('debug')).toBe(false);
  });

  it('refuses bad options, naming them', () => {
    const { logger } = consoleLogger();
    expect(() => sentenceLogger(null as never)).toThrow(/sentenceLogger\(logger\)/);
    expect(() => sentenceLogger(logger, { keyField: '' })).toThrow(/keyField/);
    expect(() => sentenceLogger(logger, { describe: 1 as never })).toThrow(/describe/);
    expect(() => sentenceLogger(logger, { render: 'yes' as never })).toThrow(/render/);
    expect(() => sentenceLogger(logger, { failureMessage: '' })).toThrow(/failureMessage/);
  });
});
