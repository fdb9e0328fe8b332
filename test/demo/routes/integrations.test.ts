import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CacheErrorType } from '../../../src/index.js';
import { startTestDemo, type TestDemo } from '../helpers.js';

describe('seed 002 endpoints', () => {
  let t: TestDemo;
  beforeAll(async () => {
    t = await startTestDemo({ integrationFailureRate: 0.3 });
  });
  afterAll(() => t.demo.close());
  const upstream = () => t.demo.upstreams.integrations;

  it('answers every user despite a 30 % failure rate, fetching each user once', async () => {
    const users = Array.from({ length: 20 }, (_, i) => String(i + 1));
    const first = await Promise.all(users.map((u) => t.call('/api/integrations/status', { user: u })));
    expect(first.map((r) => r.status)).toEqual(Array(20).fill(200));
    const bodies = (await Promise.all(first.map((r) => r.json()))) as Array<{ integrations: unknown[] }>;
    expect(bodies.every((b) => b.integrations.length > 0)).toBe(true);
    expect(upstream().calls.get('integrations.failed')).toBeGreaterThan(0);
    const fetches = upstream().calls.get('integrations.fetch');
    await Promise.all(users.map((u) => t.call('/api/integrations/status', { user: u })));
    expect(upstream().calls.get('integrations.fetch')).toBe(fetches);
  });

  it('during an outage: the default answer is [] and ?strict=1 reports RETRY_EXHAUSTED', async () => {
    upstream().setOutage(true);
    try {
      const soft = await t.call('/api/integrations/status', { user: '500' });
      expect(soft.status).toBe(200);
      expect(await soft.json()).toEqual({ user_id: 500, integrations: [] });
      const strict = await t.call('/api/integrations/status?strict=1', { user: '501' });
      expect(strict.status).toBe(502);
      expect(((await strict.json()) as { error: string }).error).toContain(CacheErrorType.RETRY_EXHAUSTED);
    } finally {
      upstream().setOutage(false);
    }
  });

  it('invalidates a user on request and reports the cache entry', async () => {
    await t.call('/api/integrations/status', { user: '42' });
    const info = (await (await t.call('/api/integrations/cache', { user: '42' })).json()) as Record<
      string,
      unknown
    >;
    expect(info).toMatchObject({ has: true, time_to_expiry_ms: 300_000 });
    await t.call('/api/integrations/invalidate', { method: 'POST', user: '42' });
    expect(await (await t.call('/api/integrations/cache', { user: '42' })).json()).toMatchObject({
      has: false,
    });
  });

  it('switches the simulated outage only with the key, and validates the user', async () => {
    expect((await t.call('/api/integrations/outage', { method: 'POST', json: { down: true } })).status).toBe(
      401,
    );
    expect(upstream().outage).toBe(false);
    const down = await t.call('/api/integrations/outage', {
      method: 'POST',
      key: true,
      json: { down: true },
    });
    expect(await down.json()).toEqual({ outage: true });
    expect(upstream().outage).toBe(true);
    await t.call('/api/integrations/outage', { method: 'POST', key: true, json: { down: false } });
    expect(upstream().outage).toBe(false);
    const invalid = await t.call('/api/integrations/outage', {
      method: 'POST',
      key: true,
      json: { down: 'yes' },
    });
    expect(invalid.status).toBe(400);
    const bad = await t.call('/api/integrations/status', { user: 'abc' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: 'X-User-Id must be a positive integer' });
  });
});
