// Keys come from callers (a path parameter, a body field): the formatted loggers write them into the
// message text, where a line break in a key would start a forged log line of the attacker's choosing.
// Control characters are written escaped, as util.inspect writes them in the fields a plain logger gets.
import { describe, expect, it } from 'vitest';
import { createCache } from '../../src/cache/create-cache.js';
import { bracketedLogger, formatBracketed, formatColon } from '../../src/observability/log-format.js';
import { formatLogLine, sentenceLogger } from '../../src/observability/sentence-log.js';
import { consoleLogger } from '../helpers/logger.js';

/** Characters that must never reach a log line raw. */
const RAW = ['\r', '\n', '\u2028', '\u0000', '\u001b', '\u0085'];
const hasRaw = (line: string) => RAW.some((c) => line.includes(c));

const FORGED = 'u1\r\n[Cache CLEAR] every cache\u2028\u0000\u001b[31m\u0085';

describe('log lines with hostile keys', () => {
  it('escapes control characters of keys, tags and patterns in the bracketed and colon forms', () => {
    const fields = { cache: 'plans', key: FORGED };
    expect(formatBracketed('Cache HIT', fields)).toBe(
      '[Cache HIT] plans u1\\r\\n[Cache CLEAR] every cache\\u2028\\x00\\x1B[31m\\x85',
    );
    expect(formatColon('Cache HIT', fields)).toBe(
      'Cache HIT: u1\\r\\n[Cache CLEAR] every cache\\u2028\\x00\\x1B[31m\\x85',
    );
    const invalidation = { cache: 'c\n', tags: ['a\nb'], pattern: 'p\t*', count: 1 };
    expect(formatBracketed('Cache INVALIDATE', invalidation)).toBe(
      '[Cache INVALIDATE] c\\n tags=a\\nb pattern=p\\t* count=1',
    );
    expect(formatColon('Cache INVALIDATE', invalidation)).toBe(
      'Cache INVALIDATE: tags=a\\nb pattern=p\\t* count=1',
    );
    // Ordinary keys read exactly as before.
    expect(formatBracketed('Cache HIT', { cache: 'plans', key: 'uuid-1 é ü' })).toBe(
      '[Cache HIT] plans uuid-1 é ü',
    );
  });

  it('writes one line per operation through bracketedLogger', async () => {
    const { logger, lines } = consoleLogger();
    const cache = createCache<number>({ name: 'plans', logger: bracketedLogger(logger) });
    await cache.getOrSet(FORGED, async () => 1);
    const messages = lines.map((l) => l.message);
    expect(messages.length).toBeGreaterThan(0);
    expect(messages.filter(hasRaw)).toEqual([]);
    await cache.close();
  });

  it('escapes control characters in rendered sentence lines, as util.inspect does', () => {
    expect(formatLogLine('info', 'Cache hit', { userId: "a\nb\\c'd", n: 1 })).toBe(
      "[INFO] Cache hit { userId: 'a\\nb\\\\c\\'d', n: 1 }",
    );
    const written: string[] = [];
    const log = sentenceLogger({ info: (line: string) => void written.push(line) }, { keyField: 'userId' });
    log.debug!('Cache HIT', { cache: 'c', key: FORGED, durationMs: 0 });
    expect(written).toHaveLength(1);
    expect(hasRaw(written[0]!)).toBe(false);
  });
});
