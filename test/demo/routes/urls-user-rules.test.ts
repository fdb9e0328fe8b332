// Seed 004's user-specific invalidation is expressed in the demo's INVALIDATION_RULES ({user}), with
// no hand-written invalidation in the route handlers: an update or delete drops the writer's list
// and analytics, and no one else's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INVALIDATION_RULES } from '../../../demo/seeds/url-cache.js';
import { startTestDemo, type TestDemo } from '../helpers.js';

describe('seed 004: {user} write rules in the demo', () => {
  let t: TestDemo;
  beforeAll(async () => {
    t = await startTestDemo();
  });
  afterAll(() => t.demo.close());
  const xCache = async (path: string, user: string) => (await t.call(path, { user })).headers.get('x-cache');

  it('names the writer through {user} in every write rule', () => {
    for (const rule of INVALIDATION_RULES) expect(rule.patterns).toEqual(['GET /api/urls/* user={user}']);
  });

  it("drops the writer's list and analytics on update and delete, not another user's", async () => {
    const created = await t.call('/api/urls/', {
      method: 'POST',
      user: 'user-7',
      json: { url: 'https://a.dev/' },
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    for (const method of ['PUT', 'DELETE'] as const) {
      for (const user of ['user-7', 'user-8']) {
        await t.call('/api/urls/', { user });
        await t.call('/api/urls/stats/', { user });
        expect(await xCache('/api/urls/', user)).toBe('HIT');
      }
      const write = await t.call(`/api/urls/${id}`, {
        method,
        user: 'user-7',
        json: method === 'PUT' ? { url: 'https://b.dev/' } : undefined,
      });
      expect(write.status).toBe(200);
      expect(await xCache('/api/urls/', 'user-7')).toBe('MISS');
      expect(await xCache('/api/urls/stats/', 'user-7')).toBe('MISS');
      expect(await xCache('/api/urls/', 'user-8')).toBe('HIT');
      expect(await xCache('/api/urls/stats/', 'user-8')).toBe('HIT');
    }
  });

  it("a failed write (someone else's link) drops nothing", async () => {
    await t.call('/api/urls/', { user: 'user-9' });
    const write = await t.call('/api/urls/1', { method: 'DELETE', user: 'user-9' });
    expect(write.status).toBeGreaterThanOrEqual(400);
    expect(await xCache('/api/urls/', 'user-9')).toBe('HIT');
  });
});
