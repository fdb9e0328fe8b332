import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDemo, type TestDemo } from '../helpers.js';

interface ShortLink {
  id: string;
  owner: string;
  url: string;
}

interface UrlList {
  owner: { id: string };
  count: number;
  urls: Array<{ id: string; code: string; url: string; owner: string }>;
}

describe('seed 004 endpoints', () => {
  let t: TestDemo;
  beforeAll(async () => {
    t = await startTestDemo();
  });
  afterAll(() => t.demo.close());
  const list = async (user: string) => {
    const res = await t.call('/api/urls/', { user });
    return { cache: res.headers.get('x-cache'), body: (await res.json()) as UrlList };
  };

  it('caches the URL list per user (CACHE_RULES vary_by_user)', async () => {
    const a1 = await list('user-1');
    const a2 = await list('user-1');
    const b1 = await list('user-2');
    expect([a1.cache, a2.cache, b1.cache]).toEqual(['MISS', 'HIT', 'MISS']);
    expect(a2.body).toEqual(a1.body);
    expect(b1.body.owner.id).toBe('user-2');
    expect(b1.body.urls.every((u) => u.owner === 'user-2')).toBe(true);
    expect((await t.call('/api/urls/')).status).toBe(401);
    // Larder's profile memoization filled the `user` cache.
    expect(t.demo.caches.user!.entries().map((e) => e.key)).toContain('user_profile_user-1');
  });

  it('caches per-user analytics in the analytics cache', async () => {
    const r1 = await t.call('/api/urls/stats/', { user: 'user-3' });
    const r2 = await t.call('/api/urls/stats/', { user: 'user-3' });
    expect([r1.headers.get('x-cache'), r2.headers.get('x-cache')]).toEqual(['MISS', 'HIT']);
    expect(await r2.json()).toMatchObject({ owner: 'user-3', total_urls: 40 });
    expect(t.demo.caches.analytics!.stats().size).toBe(1);
  });

  it('drops the creator’s list and analytics (only theirs) when a link is created', async () => {
    await list('user-1');
    await list('user-2');
    await t.call('/api/urls/stats/', { user: 'user-1' });
    const created = await t.call('/api/urls/', {
      method: 'POST',
      user: 'user-1',
      json: { url: 'https://larder.dev/' },
    });
    expect(created.status).toBe(201);
    const link = (await created.json()) as { id: string };
    const after = await list('user-1');
    expect(after.cache).toBe('MISS');
    expect(after.body.urls[0]!.id).toBe(link.id);
    expect((await list('user-2')).cache).toBe('HIT');
    const stats = await t.call('/api/urls/stats/', { user: 'user-1' });
    expect(stats.headers.get('x-cache')).toBe('MISS');
    expect(((await stats.json()) as { total_urls: number }).total_urls).toBe(41);
  });

  it('shares link details across users and invalidates them on the owner’s update only', async () => {
    const d1 = await t.call('/api/urls/1', { user: 'user-1' });
    const d2 = await t.call('/api/urls/1', { user: 'user-4' });
    expect([d1.headers.get('x-cache'), d2.headers.get('x-cache')]).toEqual(['MISS', 'HIT']);
    const denied = await t.call('/api/urls/1', {
      method: 'PUT',
      user: 'user-4',
      json: { url: 'https://evil.example/' },
    });
    expect(denied.status).toBe(404);
    expect((await t.call('/api/urls/1', { user: 'user-4' })).headers.get('x-cache')).toBe('HIT');
    const ok = await t.call('/api/urls/1', {
      method: 'PUT',
      user: 'user-1',
      json: { url: 'https://new.example/' },
    });
    expect(ok.status).toBe(200);
    const fresh = await t.call('/api/urls/1', { user: 'user-4' });
    expect(fresh.headers.get('x-cache')).toBe('MISS');
    expect(await fresh.json()).toMatchObject({ url: 'https://new.example/' });
  });

  it('redirects short codes from the url cache, counting clicks, and forgets deleted ones', async () => {
    const { body } = await list('user-5');
    const link = body.urls[0]!;
    const lookups = () => t.demo.upstreams.urls.calls.get('urls.resolve');
    const before = lookups();
    for (let i = 0; i < 3; i++) {
      const res = await t.call(`/r/${link.code}`);
      expect(res.status).toBe(302);
      expect(res.headers.get('location')).toBe(link.url);
    }
    expect(lookups()).toBe(before + 1);
    const stats = (await (await t.call('/api/urls/stats/', { user: 'user-5' })).json()) as {
      total_clicks: number;
    };
    expect(stats.total_clicks).toBe(3);
    await t.call(`/api/urls/${link.id}`, { method: 'DELETE', user: 'user-5' });
    expect((await t.call(`/r/${link.code}`)).status).toBe(404);
    expect((await t.call('/r/unknown1')).status).toBe(404);
  });

  it('creates one link per Idempotency-Key (kept in the session cache)', async () => {
    const post = () =>
      t.call('/api/urls/', {
        method: 'POST',
        user: 'user-2',
        json: { url: 'https://once.example/' },
        headers: { 'idempotency-key': 'abc' },
      });
    const [a, b] = [
      (await (await post()).json()) as { id: string },
      (await (await post()).json()) as { id: string },
    ];
    expect(b.id).toBe(a.id);
    expect(t.demo.caches.session!.stats().size).toBe(1);
    const bad = await t.call('/api/urls/', {
      method: 'POST',
      user: 'user-2',
      json: { url: 'javascript:alert(1)' },
    });
    expect(bad.status).toBe(400);
    expect((await t.call('/api/urls/', { user: 'user-*' })).status).toBe(400);
  });

  it('never answers one user’s creation to another user’s Idempotency-Key (a + b_c vs a_b + c)', async () => {
    const post = (user: string, key: string, url: string) =>
      t.call('/api/urls/', { method: 'POST', user, json: { url }, headers: { 'idempotency-key': key } });
    const first = (await (await post('a', 'b_c', 'https://a.example/')).json()) as ShortLink;
    const second = (await (await post('a_b', 'c', 'https://ab.example/')).json()) as ShortLink;
    expect(first.owner).toBe('a');
    expect(second).toMatchObject({ owner: 'a_b', url: 'https://ab.example/' });
    expect(second.id).not.toBe(first.id);
    // The same user and key still get the first creation back.
    const again = (await (await post('a', 'b_c', 'https://other.example/')).json()) as ShortLink;
    expect(again.id).toBe(first.id);
    expect((await post('a', 'k'.repeat(256), 'https://a.example/')).status).toBe(400);
  });

  it('does not cache a 404 for an id that is created next', async () => {
    const create = async () =>
      (await (
        await t.call('/api/urls/', { method: 'POST', user: 'user-6', json: { url: 'https://n.example/' } })
      ).json()) as ShortLink;
    const next = String(Number((await create()).id) + 1);
    const missing = await t.call(`/api/urls/${next}`, { user: 'user-6' });
    expect(missing.status).toBe(404);
    expect((await create()).id).toBe(next);
    const found = await t.call(`/api/urls/${next}`, { user: 'user-6' });
    expect(found.status).toBe(200);
    expect(await found.json()).toMatchObject({ id: next, owner: 'user-6' });
  });

  describe('management endpoints under /api/cache/', () => {
    it('need the key', async () => {
      expect((await t.call('/api/cache/stats/')).status).toBe(401);
    });

    it('serve stats, health and performance for the five cache types, with or without the trailing slash', async () => {
      for (const path of ['/api/cache/stats/', '/api/cache/stats']) {
        const stats = (await (await t.call(path, { key: true })).json()) as {
          caches: Record<string, unknown>;
        };
        expect(Object.keys(stats.caches).sort()).toEqual(['analytics', 'general', 'session', 'url', 'user']);
      }
      expect(await (await t.call('/api/cache/health/', { key: true })).json()).toMatchObject({
        status: 'ok',
      });
      const perf = (await (await t.call('/api/cache/performance/', { key: true })).json()) as Record<
        string,
        unknown
      >;
      expect(Object.keys(perf)).toEqual(
        expect.arrayContaining(['overall_performance', 'system_info', 'cache_instances']),
      );
    });

    it('clear one type, invalidate by tag, and clear everything', async () => {
      await list('user-1');
      await t.call('/r/' + (await list('user-2')).body.urls[0]!.code);
      const res = await t.call('/api/cache/invalidate/', {
        method: 'POST',
        key: true,
        json: { patterns: ['GET /api/urls/ * user=*'] },
      });
      expect(((await res.json()) as { invalidated: number }).invalidated).toBeGreaterThanOrEqual(2);
      expect((await list('user-1')).cache).toBe('MISS');

      expect((await t.call('/api/cache/clear/url/', { method: 'POST', key: true })).status).toBe(200);
      expect(t.demo.caches.url!.stats().size).toBe(0);
      expect(t.demo.caches.user!.stats().size).toBeGreaterThan(0);
      await t.call('/api/cache/clear/', { method: 'POST', key: true });
      expect(t.demo.caches.user!.stats().size).toBe(0);
      expect((await t.call('/api/cache/clear/nope/', { method: 'POST', key: true })).status).toBe(404);
    });
  });
});
