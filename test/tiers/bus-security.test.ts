// Bus messages are untrusted input (issue 10, "Isolation and hostile input"): the receiver checks
// shape, bounds and timestamps and drops (and counts) what fails; with `busSecret` every message is
// signed (HMAC-SHA256) and an unsigned `clear` published by a stranger with Redis access clears nothing.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createCache } from '../../src/index.js';
import type { Cache } from '../../src/index.js';
import {
  BUS_LIMITS,
  busKey,
  encodeBusMessage,
  fitBusMessage,
  inspectBusMessage,
} from '../../src/tiers/bus.js';
import type { BusMessage } from '../../src/tiers/bus.js';
import { PublishBatcher } from '../../src/tiers/publish-batcher.js';
import { redisTier } from '../../src/tiers/redis-tier.js';
import { RedisServer, redisCli } from '../helpers/redis-server.js';
import { describeWithRedis } from './describe-with-redis.js';

const NOW = 1_700_000_000_000;
const SECRET = 'correct horse battery staple';

describe('inbound bus messages', () => {
  const problem = (raw: unknown): string | undefined =>
    inspectBusMessage(typeof raw === 'string' ? raw : JSON.stringify(raw), { now: NOW }).problem;
  const base = { source: 'x', cache: 'c' };

  it('accepts what Larder sends', () => {
    expect(problem({ ...base, kind: 'delete', keys: ['a', 'b'] })).toBeUndefined();
    expect(problem({ ...base, kind: 'tags', tags: ['t'], at: NOW })).toBeUndefined();
    expect(problem({ ...base, kind: 'pattern', pattern: 'user:*:plans' })).toBeUndefined();
    expect(problem({ ...base, kind: 'clear' })).toBeUndefined();
  });

  it('names what is wrong with malformed, oversized or badly timed ones', () => {
    const many = Array.from({ length: BUS_LIMITS.maxItems + 1 }, (_, i) => `k${i}`);
    const cases: Array<[unknown, RegExp]> = [
      ['{"source":"x"', /not JSON/],
      [[1, 2], /not an object/],
      [{ ...base, cache: 'c'.repeat(300), kind: 'clear' }, /cache must be/],
      [{ ...base, kind: 'explode' }, /unknown kind/],
      [{ ...base, kind: 'delete' }, /delete needs keys/],
      [{ ...base, kind: 'delete', keys: many }, /keys has 1001 items/],
      [{ ...base, kind: 'delete', keys: ['x'.repeat(BUS_LIMITS.maxItemLength + 1)] }, /longer than/],
      [{ ...base, kind: 'delete', keys: [{}] }, /keys must be strings/],
      [{ ...base, kind: 'tags', tags: [5], at: NOW }, /tags must be strings/],
      [{ ...base, kind: 'tags', tags: ['t'] }, /needs tags and at/],
      [{ ...base, kind: 'tags', tags: ['t'], at: NOW + 3_600_000 }, /in the future/],
      [{ ...base, kind: 'tags', tags: ['t'], at: -1 }, /at must be a time/],
      ['{"source":"x","cache":"c","kind":"tags","tags":["t"],"at":1e400}', /at must be a time/],
      [{ ...base, kind: 'pattern', pattern: 'a'.repeat(BUS_LIMITS.maxPatternLength + 1) }, /exceeds/],
      [{ ...base, kind: 'pattern', pattern: '*a'.repeat(BUS_LIMITS.maxPatternStars + 1) }, /'\*'/],
      [{ ...base, kind: 'namespace-clear' }, /needs a pattern/],
    ];
    for (const [raw, expected] of cases) expect(problem(raw)).toMatch(expected);
  });

  it('refuses deep nesting before parsing it, at once, and still reads brackets and quotes inside strings', () => {
    // 8 MB of '[': JSON.parse blocked for about 3.3 s before rejecting it.
    const deep = Buffer.alloc(8 * 1024 * 1024, '[');
    const started = performance.now();
    expect(inspectBusMessage(deep, { now: NOW }).problem).toBe('message nests deeper than 4');
    expect(performance.now() - started).toBeLessThan(1000);
    expect(problem(`{"source":"x","cache":"c","kind":"clear","x":[[[[1]]]]}`)).toMatch(/nests deeper/);
    // Brackets, escaped quotes and backslashes inside keys are text, not nesting.
    const keys = ['[[[[[[', '{{{{{{', 'a\\"[[[[[[', '\\', '"]]]]]]', 'ключ [[[[[['];
    const message = { ...base, kind: 'delete', keys };
    expect(inspectBusMessage(JSON.stringify(message), { now: NOW }).message).toMatchObject(message);
    // The largest sound message is scanned in well under what parsing it costs.
    const big = JSON.stringify({
      ...base,
      kind: 'delete',
      keys: Array.from({ length: 1000 }, (_, i) => `[${'k'.repeat(1000)}${i}`),
    });
    expect(problem(big)).toBeUndefined();
  });

  it('with a key: accepts signed messages, refuses unsigned, wrongly signed, tampered and stale ones', () => {
    const key = busKey(SECRET);
    const message: BusMessage = { source: 'x', cache: 'c', kind: 'clear' };
    const signed = encodeBusMessage(message, key, NOW);
    expect(inspectBusMessage(signed, { key, now: NOW }).message).toMatchObject(message);
    // Receivers without the secret still read signed messages.
    expect(inspectBusMessage(signed, { now: NOW }).message).toMatchObject(message);
    const check = (raw: string, now = NOW): string | undefined =>
      inspectBusMessage(raw, { key, now }).problem;
    expect(check(encodeBusMessage(message))).toMatch(/not signed/);
    expect(check(encodeBusMessage(message, busKey('another secret, 16+ bytes'), NOW))).toMatch(/signature/);
    expect(check(signed.replace('"clear"', '"delete"'))).toMatch(/signature/);
    expect(check(`${signed.slice(0, -2)}zz`)).toMatch(/signature/);
    expect(check(signed, NOW + BUS_LIMITS.maxAgeMs + 1)).toMatch(/outside the accepted window/);
  });

  it('refuses a secret too short to be one', () => {
    expect(() => busKey('short')).toThrow(RangeError);
    expect(() => busKey(42 as unknown as string)).toThrow(/busSecret must be a string/);
    expect(() => redisTier({ url: 'redis://127.0.0.1:1', busSecret: 'short' })).toThrow(/busSecret/);
  });

  it('fits what a sender publishes to the bounds: long lists split, oversize items widen to clear', () => {
    const keys = Array.from({ length: 2500 }, (_, i) => `k${i}`);
    const parts = fitBusMessage({ cache: 'c', kind: 'delete', keys });
    expect(parts.map((p) => p.keys?.length)).toEqual([1000, 1000, 500]);
    expect(parts.flatMap((p) => p.keys)).toEqual(keys);
    expect(fitBusMessage({ cache: 'c', kind: 'delete', keys: ['x'.repeat(70_000)] })).toEqual([
      { cache: 'c', kind: 'clear' },
    ]);
    expect(fitBusMessage({ cache: 'c', kind: 'pattern', pattern: '*a'.repeat(40) })).toEqual([
      { cache: 'c', kind: 'clear' },
    ]);
    for (const part of parts) expect(problem({ source: 's', ...part })).toBeUndefined();
  });

  it('the publish batcher sends a huge delete as messages receivers accept', async () => {
    const sent: Array<Omit<BusMessage, 'source'>> = [];
    const bus = {
      instanceId: 's',
      start: async () => {},
      publish: async (message: Omit<BusMessage, 'source'>) => void sent.push(message),
      health: () => ({ status: 'ok' as const, resyncs: 0 }),
      close: async () => {},
    };
    const keys = Array.from({ length: 2500 }, (_, i) => `k${i}`);
    await new PublishBatcher(bus).publish({ cache: 'c', kind: 'delete', keys });
    expect(sent.flatMap((m) => m.keys)).toEqual(keys);
    for (const message of sent) expect(problem({ source: 's', ...message })).toBeUndefined();
  });
});

describeWithRedis('bus messages over a real redis-server', () => {
  let server: RedisServer;
  const caches: Cache[] = [];
  beforeAll(async () => {
    server = await RedisServer.start();
  });
  afterAll(async () => {
    await Promise.all(caches.map((cache) => cache.close()));
    await server.destroy();
  });

  const open = (instanceId: string, extra: { busSecret?: string; logger?: object } = {}): Cache => {
    const cache = createCache({
      name: 'sec',
      ttl: '1h',
      l2: redisTier({
        url: server.url,
        prefix: `sec${extra.busSecret ? 's' : 'u'}:`,
        instanceId,
        timeout: 2000,
        ...extra,
      }),
    });
    caches.push(cache);
    return cache;
  };
  const publish = (prefix: string, raw: string): Promise<string> =>
    redisCli(['-p', String(server.port), 'PUBLISH', `${prefix}bus`, raw]);
  const busOf = (cache: Cache): Record<string, unknown> => cache.health().bus ?? {};

  it('with busSecret, an unsigned clear from a stranger clears nothing; a signed peer still invalidates', async () => {
    const a = open('A', { busSecret: SECRET });
    const b = open('B', { busSecret: SECRET });
    await vi.waitFor(() => expect(busOf(a).status).toBe('ok'));
    await vi.waitFor(() => expect(busOf(b).status).toBe('ok'));
    await a.set('k', 'v');
    await a.set('other', 'w');
    expect(await b.get('k')).toBe('v');
    expect(await publish('secs:', JSON.stringify({ source: 'evil', cache: 'sec', kind: 'clear' }))).toMatch(
      /2/,
    );
    await vi.waitFor(() => expect(busOf(a).rejected).toBe(1));
    await vi.waitFor(() => expect(busOf(b).rejected).toBe(1));
    expect(
      a
        .entries()
        .map((e) => e.key)
        .sort(),
    ).toEqual(['k', 'other']);
    expect(b.entries().map((e) => e.key)).toContain('k');
    expect(busOf(a).signed).toBe(true);
    // A peer with the secret is heard: B drops its copy when A deletes.
    await a.delete('k');
    await vi.waitFor(() => expect(b.entries().map((e) => e.key)).not.toContain('k'));
  });

  it('without a secret, malformed messages are ignored, counted and logged once', async () => {
    const warnings: unknown[][] = [];
    const logger = { warn: (...args: unknown[]) => warnings.push(args) };
    const a = open('U', { logger });
    await vi.waitFor(() => expect(busOf(a).status).toBe('ok'));
    await a.set('k', 'v');
    const hostile = [
      'not json',
      JSON.stringify({ source: 'evil', cache: 'sec', kind: 'pattern', pattern: '*a'.repeat(100) + 'b' }),
      JSON.stringify({
        source: 'evil',
        cache: 'sec',
        kind: 'tags',
        tags: ['t'],
        at: Date.now() + 86_400_000,
      }),
      JSON.stringify({ source: 'evil', cache: 'sec', kind: 'delete', keys: Array(5000).fill('k') }),
    ];
    for (const raw of hostile) await publish('secu:', raw);
    await vi.waitFor(() => expect(busOf(a).rejected).toBe(hostile.length));
    expect(a.entries().map((e) => e.key)).toEqual(['k']);
    const lines = warnings.filter((args) => JSON.stringify(args).includes('bus message dropped'));
    expect(lines).toHaveLength(1);
    // A well-formed message from another instance is still obeyed.
    await publish('secu:', JSON.stringify({ source: 'peer', cache: 'sec', kind: 'delete', keys: ['k'] }));
    await vi.waitFor(() => expect(a.entries()).toEqual([]));
  });

  it('a sound message whose time is out of the window is counted as rejected but still evicts locally', async () => {
    const a = open('W', { busSecret: SECRET });
    await vi.waitFor(() => expect(busOf(a).status).toBe('ok'));
    await a.set('k', 'v');
    await a.set('tagged', 'x', { tags: ['F'] });
    await a.set('kept', 'y');
    const key = busKey(SECRET);
    // Signed, by a host whose clock runs 10 minutes behind (or replayed): outside the sentAt window.
    const stale = encodeBusMessage(
      { source: 'skewed', cache: 'sec', kind: 'delete', keys: ['k'] },
      key,
      Date.now() - 600_000,
    );
    // Signed now, but naming a tag time 70 s ahead (a host whose clock runs ahead).
    const ahead = encodeBusMessage(
      { source: 'skewed', cache: 'sec', kind: 'tags', tags: ['F'], at: Date.now() + 70_000 },
      key,
      Date.now(),
    );
    // A wrongly signed one evicts nothing.
    const forged = encodeBusMessage(
      { source: 'evil', cache: 'sec', kind: 'delete', keys: ['kept'] },
      busKey('another secret, 16+ bytes'),
      Date.now(),
    );
    for (const raw of [stale, ahead, forged]) await publish('secs:', raw);
    await vi.waitFor(() => expect(busOf(a).rejected).toBe(3));
    expect(a.entries().map((e) => e.key)).toEqual(['kept']);
  });
});
