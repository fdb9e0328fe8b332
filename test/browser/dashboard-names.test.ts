// The dashboard's per-cache buttons with cache names a URL parser rewrites: `.` and `..` are dot
// segments, so `clear/.` would reach the server as `clear/` (every cache). The page sends the name in
// the query string, and each button acts on its own cache only. Skips when /usr/bin/chromium is missing.
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCache } from '../../src/cache/create-cache.js';
import type { Cache } from '../../src/cache/types.js';
import { createAdmin, type AdminHandler } from '../../src/http/admin/admin.js';
import { listen, type TestServer } from '../http/helpers/server.js';

const CHROMIUM = '/usr/bin/chromium';
const KEY = 'dashboard-names-key-1';

describe.runIf(existsSync(CHROMIUM))('dashboard buttons for caches named . and ..', () => {
  const dot = createCache<number>({ name: '.' });
  const dotdot = createCache<number>({ name: '..' });
  const victim = createCache<number>({ name: 'victim' });
  const caches: Cache<number>[] = [dot, dotdot, victim];
  let admin: AdminHandler;
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  const posts: string[] = [];

  beforeAll(async () => {
    admin = createAdmin({ caches: { '.': dot, '..': dotdot, victim }, apiKey: KEY, prefix: '/cache' });
    server = await listen((req, res) => void admin(req, res));
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
    page = await browser.newPage();
    page.on('dialog', (dialog) => void dialog.accept());
    page.on('request', (request) => {
      if (request.method() === 'POST')
        posts.push(new URL(request.url()).pathname + new URL(request.url()).search);
    });
    await page.goto(`${server.url}/cache/dashboard`);
    await page.fill('#api-key', KEY);
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('tr[data-cache=".."]');
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    admin?.close();
    await Promise.all(caches.map((c) => c.close()));
  });

  async function fill(): Promise<void> {
    for (const cache of caches) for (let i = 0; i < 3; i++) await cache.set(`k${i}`, i);
  }

  it.each(['.', '..'])('Clear and the switch on the row of %j act on that cache only', async (name) => {
    await fill();
    const own = name === '.' ? dot : dotdot;
    const other = name === '.' ? dotdot : dot;
    posts.length = 0;
    await page.click(`tr[data-cache="${name}"] button[data-action="clear"]`);
    await expect.poll(() => page.textContent('#action-result')).toBe(`${name} cleared.`);
    expect(posts).toEqual([`/cache/clear?cache=${encodeURIComponent(name)}`]);
    expect(own.stats().size).toBe(0);
    expect(other.stats().size).toBe(3);
    expect(victim.stats().size).toBe(3);

    await page.click(`tr[data-cache="${name}"] button[data-action="toggle"]`);
    await expect.poll(() => page.textContent('#action-result')).toBe(`${name} disabled.`);
    expect(own.stats().enabled).toBe(false);
    expect(victim.stats().enabled).toBe(true);
    own.configure({ enabled: true });
  });
});
