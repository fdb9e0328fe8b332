// The dashboard end to end in a real browser: Debian's chromium driven by playwright-core against the
// demo service under load. Skips loudly when /usr/bin/chromium is missing, unless CI or
// LARDER_REQUIRE_BROWSER is set, in which case a missing browser fails the run.
import { existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemo, type Demo } from '../../demo/app.js';
import { readConfig } from '../../demo/config.js';
import { runLoad, type LoadReport } from '../../demo/load/traffic.js';

const CHROMIUM = '/usr/bin/chromium';
const API_KEY = 'browser-test-key-1';
const XSS_KEY = '<img src=x onerror=window.__xss=1>';
const required = Boolean(process.env.CI || process.env.LARDER_REQUIRE_BROWSER);
const available = existsSync(CHROMIUM);

if (!available) {
  const message = `${CHROMIUM} not found: the dashboard browser test ${required ? 'FAILS (CI/LARDER_REQUIRE_BROWSER set)' : 'is SKIPPED'}. Install Debian's chromium to run it.`;
  console.warn(`\n${'!'.repeat(100)}\n${message}\n${'!'.repeat(100)}\n`);
  if (required) {
    describe('dashboard in a real browser', () => {
      it('needs /usr/bin/chromium', () => {
        expect.fail(message);
      });
    });
  }
}

describe.runIf(available)('dashboard in a real browser', () => {
  let demo: Demo;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    const config = readConfig({
      PORT: '0',
      LARDER_API_KEY: API_KEY,
      DEMO_LATENCY_SCALE: '0.05',
      DEMO_FAILURE_RATE: '0.2',
    });
    demo = await startDemo(config);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = await browser.newPage({ viewport: { width: 1360, height: 1500 } });
    // Every action asks confirm(); the test says yes.
    page.on('dialog', (dialog) => void dialog.accept());
  });

  afterAll(async () => {
    await browser?.close();
    await demo?.close();
  });

  /** The numbers of a cache's row, as the page shows them. */
  const rowText = (cache: string, column: number) =>
    page.locator(`tr[data-cache="${cache}"] td`).nth(column).textContent();
  const sizeOf = async (cache: string) =>
    Number((await rowText(cache, 3))!.split('/')[0]!.replace(/\D/g, ''));

  it('asks for the key, rejects a wrong one, and keeps a good one in session storage', async () => {
    await page.goto(`${demo.url}/cache/dashboard`);
    await expect.poll(() => page.isVisible('#login-form')).toBe(true);
    await page.fill('#api-key', 'wrong-key-123');
    await page.click('#login-form button[type=submit]');
    await expect.poll(() => page.textContent('#login-error')).toContain('rejected');
    await page.fill('#api-key', API_KEY);
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('tr[data-cache="url"]');
    // Evaluated in the page, hence given as source text (this file is compiled without DOM types).
    expect(await page.evaluate("sessionStorage.getItem('larder.apiKey')")).toBe(API_KEY);
    expect(await page.locator('#cache-rows tr').count()).toBe(12);
  });

  it('shows the numbers moving under load', async () => {
    const requestsSoFar = async () => Number((await page.textContent('#t-rps-sub'))!.replace(/\D/g, ''));
    const before = await requestsSoFar();
    const load: Promise<LoadReport> = runLoad({
      baseUrl: demo.url,
      durationMs: 7000,
      apiKey: API_KEY,
      concurrency: 4,
    });
    await expect.poll(requestsSoFar, { timeout: 10_000, interval: 500 }).toBeGreaterThan(before + 100);
    const middle = await requestsSoFar();
    await expect.poll(requestsSoFar, { timeout: 10_000, interval: 500 }).toBeGreaterThan(middle);
    await expect.poll(() => page.textContent('#t-rps'), { timeout: 10_000 }).toMatch(/^[1-9][\d,.]*$/);
    expect(await sizeOf('url')).toBeGreaterThan(0);
    expect(await page.textContent('#t-process')).toMatch(/MB$/);
    expect(await page.locator('#legend .legend-item').count()).toBe(12);
    const report = await load;
    expect(report.byStatus['5xx'] ?? 0).toBe(0);
    // Let one more poll land so the chart and rates include the whole run.
    await page.waitForTimeout(2500);
    mkdirSync('test-output', { recursive: true });
    await page.screenshot({ path: 'test-output/dashboard.png', fullPage: false });
  });

  it('renders a hostile key as text', async () => {
    await demo.caches.general!.set(XSS_KEY, 'value');
    await page.fill('#keys-search', '<img');
    const cell = page.locator('#key-rows td.key', { hasText: XSS_KEY });
    await expect.poll(() => cell.count(), { timeout: 10_000 }).toBe(1);
    expect(await cell.textContent()).toBe(XSS_KEY);
    expect(await page.locator('#key-rows img').count()).toBe(0);
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.evaluate('window.__xss')).toBeUndefined();
    await page.fill('#keys-search', '');
  });

  it('clears a cache and shows its size drop', async () => {
    await expect.poll(() => sizeOf('url'), { timeout: 10_000 }).toBeGreaterThan(0);
    await page.click('tr[data-cache="url"] button[data-action="clear"]');
    await expect.poll(() => sizeOf('url'), { timeout: 10_000 }).toBe(0);
    expect(demo.caches.url!.stats().size).toBe(0);
    expect(await page.textContent('#action-result')).toBe('url cleared.');
  });

  it('switches a cache off and on', async () => {
    await page.click('tr[data-cache="stats"] button[data-action="toggle"]');
    await expect
      .poll(() => page.textContent('tr[data-cache="stats"] .pill'), { timeout: 10_000 })
      .toBe('off');
    expect(demo.caches.stats!.enabled).toBe(false);
    await page.click('tr[data-cache="stats"] button[data-action="toggle"]');
    await expect.poll(() => page.textContent('tr[data-cache="stats"] .pill'), { timeout: 10_000 }).toBe('on');
    expect(demo.caches.stats!.enabled).toBe(true);
  });

  it('changes a TTL', async () => {
    await page.fill('tr[data-cache="session"] .ttl-form input', '2m');
    await page.click('tr[data-cache="session"] .ttl-form button');
    await expect.poll(() => rowText('session', 8), { timeout: 10_000 }).toContain('2 min');
    expect(demo.caches.session!.stats().ttl).toBe(120_000);
  });

  it('invalidates by tag and by pattern, reporting the count', async () => {
    await fetch(`${demo.url}/api/urls/42`, { headers: { 'x-user-id': 'user-1' } });
    await page.selectOption('#inv-kind', 'tags');
    await page.fill('#inv-value', 'url:42');
    await page.click('#invalidate-form button[type=submit]');
    await expect
      .poll(() => page.textContent('#action-result'), { timeout: 10_000 })
      .toMatch(/^Invalidated 1 entries/);

    await fetch(`${demo.url}/api/v1/subscriptions/acme/providers`);
    await page.selectOption('#inv-cache', 'subscriptions');
    await page.selectOption('#inv-kind', 'patterns');
    await page.fill('#inv-value', 'providers_list_*');
    await page.click('#invalidate-form button[type=submit]');
    await expect
      .poll(() => page.textContent('#action-result'), { timeout: 10_000 })
      .toMatch(/^Invalidated [1-9]\d* entries/);
    expect(demo.caches.subscriptions!.entries().some((e) => e.key.startsWith('providers_list_'))).toBe(false);
  });
});
