import { describe, expect, it } from 'vitest';
import { createCache } from '../../src/cache/create-cache.js';
import { bracketedLogger, formatBracketed } from '../../src/observability/log-format.js';
import { LogSink } from '../../src/observability/log-sink.js';
import { manualClock } from '../helpers/clock.js';
import { consoleLogger, pinoLogger } from '../helpers/logger.js';

describe('formatBracketed', () => {
  it('brackets the operation and appends cache, key, tags, pattern, count and config changes', () => {
    expect(formatBracketed('Cache HIT', { cache: 'plans', key: 'uuid-1', durationMs: 0 })).toBe(
      '[Cache HIT] plans uuid-1',
    );
    expect(formatBracketed('Cache INVALIDATE', { cache: 'plans', tags: ['provider:a', 'x'], count: 2 })).toBe(
      '[Cache INVALIDATE] plans tags=provider:a,x count=2',
    );
    expect(formatBracketed('Cache INVALIDATE', { cache: 's', pattern: 'org_*', count: 0 })).toBe(
      '[Cache INVALIDATE] s pattern=org_* count=0',
    );
    expect(formatBracketed('Cache CONFIG', { cache: 'plans', ttl: 7_200_000 })).toBe(
      '[Cache CONFIG] plans ttl=7200000',
    );
    expect(formatBracketed('Cache REFRESH failed', { cache: 'c', key: 'k' })).toBe(
      '[Cache REFRESH] failed c k',
    );
    expect(formatBracketed('Cache CLEAR')).toBe('[Cache CLEAR]');
    expect(formatBracketed('something else', { cache: 'c' })).toBe('something else');
  });
});

describe('bracketedLogger', () => {
  it('writes every seed-000 operation of a cache in the bracketed form (console style)', async () => {
    const { logger, lines } = consoleLogger();
    const clock = manualClock();
    const cache = createCache<string[]>({
      name: 'plans',
      ttl: '1h',
      logger: bracketedLogger(logger),
      clock: clock.now,
    });
    await cache.getOrSet('uuid-1', async () => ['a'], { tags: ['provider:uuid-1'] });
    await cache.getOrSet('uuid-1', async () => ['b']);
    await cache.invalidateTags(['provider:uuid-1']);
    cache.configure({ ttl: '2h' });
    await cache.clear();
    const messages = lines.map((l) => l.message);
    expect(messages).toContain('[Cache MISS] plans uuid-1');
    expect(messages).toContain('[Cache SET] plans uuid-1');
    expect(messages).toContain('[Cache HIT] plans uuid-1');
    expect(messages).toContain('[Cache INVALIDATE] plans tags=provider:uuid-1 count=1');
    expect(messages).toContain('[Cache CONFIG] plans ttl=2h');
    expect(messages).toContain('[Cache CLEAR] plans');
    // The fields still travel with the message.
    expect(lines.find((l) => l.message.startsWith('[Cache HIT]'))?.fields).toMatchObject({
      cache: 'plans',
      key: 'uuid-1',
    });
    await cache.close();
  });

  it('keeps a pino logger pino-style with its threshold', async () => {
    const { logger, lines } = pinoLogger('info');
    const wrapped = bracketedLogger(logger);
    const sink = new LogSink(wrapped);
    expect(sink.debugOn).toBe(false);
    expect(sink.infoOn).toBe(true);
    sink.info('Cache WARM', { cache: 'plans', count: 3 });
    expect(lines).toEqual([
      { level: 'info', message: '[Cache WARM] plans count=3', fields: { cache: 'plans', count: 3 } },
    ]);
    expect(() => bracketedLogger(null as never)).toThrow(TypeError);
  });
});
