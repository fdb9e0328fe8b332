// The dashboard end to end in a real browser: Debian's chromium driven by playwright-core against the
// demo service under load, including the sizing advisor's curves and a page that raises no CSP
// violation. Skips loudly when /usr/bin/chromium is missing, unless CI or LARDER_REQUIRE_BROWSER is
// set, in which case a missing browser fails the run.
import { existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADVISED_CACHES, startDemo, type Demo } from '../../demo/app.js';
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
  /** Uncaught page errors and Content-Security-Policy violations reported by the browser. */
  const pageProblems: string[] = [];

  beforeAll(async () => {
    const config = readConfig({
      PORT: '0',
      LARDER_API_KEY: API_KEY,
      DEMO_LATENCY_SCALE: '0.05',
      DEMO_FAILURE_RATE: '0.2',
      // Snapshots would land in the repository; the demo's warm restarts have their own test.
      LARDER_SNAPSHOT_DIR: 'off',
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
    page.on('pageerror', (error) => pageProblems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (/Content.Security.Policy/i.test(message.text())) pageProblems.push(message.text());
    });
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
  const actionResult = () => page.textContent('#action-result');

  /**
   * Runs a dashboard action and waits for its whole message. The message line is emptied first, so
   * the previous action's message (which may look alike, e.g. "Invalidated 1 entries …") cannot pass.
   */
  async function act(run: () => Promise<void>, message: string | RegExp): Promise<void> {
    await page.evaluate("document.getElementById('action-result').textContent = ''");
    expect(await actionResult()).toBe('');
    await run();
    const expected = typeof message === 'string' ? new RegExp(`^${escapeRegExp(message)}$`) : message;
    await expect.poll(actionResult, { timeout: 10_000 }).toMatch(expected);
  }

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
  });

  it("draws each advised cache's hit-ratio curve for both policies beside its current point, with the recommendation", async () => {
    type Advice = { recommendation: string; sampled_requests: number; policy: string };
    // The load run is over, so the server's advice stands still; the page asks for it every 10 s.
    const served = (
      (await (await fetch(`${demo.url}/cache/advisor`, { headers: { 'x-api-key': API_KEY } })).json()) as {
        caches: Record<string, Advice | null>;
      }
    ).caches;
    const url = served.url!;
    expect(url.sampled_requests).toBeGreaterThan(0);
    const card = (name: string) => page.locator(`#advice-list article[data-cache="${name}"]`);
    await expect
      // A short wait per try, so a card that never appears fails the poll instead of the test timeout.
      .poll(() => card('url').locator('.advice-text').textContent({ timeout: 1000 }), { timeout: 15_000 })
      .toBe(url.recommendation);
    expect(await page.isVisible('#advisor')).toBe(true);
    expect(await page.locator('#advice-list article').count()).toBe(ADVISED_CACHES.length);
    for (const name of ADVISED_CACHES) {
      const lines = card(name).locator('svg polyline');
      expect(await lines.count(), name).toBe(2);
      const labels = await Promise.all([0, 1].map((i) => lines.nth(i).getAttribute('data-series')));
      expect(labels.sort(), name).toEqual([
        `LRU${served[name]!.policy === 'lru' ? ' (in use)' : ''}`,
        `W-TinyLFU${served[name]!.policy === 'tinylfu' ? ' (in use)' : ''}`,
      ]);
      // 0.25x, 0.5x, 1x, 2x and 4x.
      for (const i of [0, 1]) expect((await lines.nth(i).getAttribute('points'))!.split(' ')).toHaveLength(5);
      expect(await card(name).locator('svg circle.marker').count(), name).toBe(1);
      expect(await card(name).locator('.advice-text').textContent(), name).toBe(served[name]!.recommendation);
    }
    // The current point sits on the line of the policy in use, at 1x (the middle point).
    const inUse = card('url').locator('svg polyline[data-series$="(in use)"]');
    const middle = (await inUse.getAttribute('points'))!.split(' ')[2]!;
    const marker = card('url').locator('svg circle.marker');
    expect(`${await marker.getAttribute('cx')},${await marker.getAttribute('cy')}`).toBe(middle);
    expect(await card('url').locator('.advice-sample').textContent()).toMatch(
      new RegExp(`^${url.sampled_requests.toLocaleString('en-US')} sampled requests`),
    );
    expect(pageProblems).toEqual([]);
    mkdirSync('test-output', { recursive: true });
    await page.screenshot({ path: 'test-output/dashboard.png', fullPage: true });
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
    await act(() => page.click('tr[data-cache="url"] button[data-action="clear"]'), 'url cleared.');
    await expect.poll(() => sizeOf('url'), { timeout: 10_000 }).toBe(0);
    expect(demo.caches.url!.stats().size).toBe(0);
  });

  it('switches a cache off and on', async () => {
    const toggle = () => page.click('tr[data-cache="stats"] button[data-action="toggle"]');
    await act(toggle, 'stats disabled.');
    await expect
      .poll(() => page.textContent('tr[data-cache="stats"] .pill'), { timeout: 10_000 })
      .toBe('off');
    expect(demo.caches.stats!.enabled).toBe(false);
    await act(toggle, 'stats enabled.');
    await expect.poll(() => page.textContent('tr[data-cache="stats"] .pill'), { timeout: 10_000 }).toBe('on');
    expect(demo.caches.stats!.enabled).toBe(true);
  });

  it('changes a TTL', async () => {
    await page.fill('tr[data-cache="session"] .ttl-form input', '2m');
    await act(() => page.click('tr[data-cache="session"] .ttl-form button'), 'TTL of session set to 2m.');
    await expect.poll(() => rowText('session', 8), { timeout: 10_000 }).toContain('2 min');
    expect(demo.caches.session!.stats().ttl).toBe(120_000);
  });

  it('invalidates by tag and by pattern, reporting the count', async () => {
    await fetch(`${demo.url}/api/urls/42`, { headers: { 'x-user-id': 'user-1' } });
    await page.selectOption('#inv-kind', 'tags');
    await page.fill('#inv-value', 'url:42');
    await act(
      () => page.click('#invalidate-form button[type=submit]'),
      'Invalidated 1 entries for tag "url:42".',
    );

    await fetch(`${demo.url}/api/v1/subscriptions/acme/providers`);
    await page.selectOption('#inv-cache', 'subscriptions');
    await page.selectOption('#inv-kind', 'patterns');
    await page.fill('#inv-value', 'providers_list_*');
    await act(
      () => page.click('#invalidate-form button[type=submit]'),
      /^Invalidated [1-9]\d* entries for pattern "providers_list_\*"\.$/,
    );
    expect(demo.caches.subscriptions!.entries().some((e) => e.key.startsWith('providers_list_'))).toBe(false);
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
