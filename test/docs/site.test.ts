// The docs site builds (`npm run docs:build`: VitePress + the TypeDoc API reference, here into
// test-output/docs-site), and its home page works in a real browser: Debian's chromium, driven by playwright-core against the built files served
// by a small static server. The test saves the home page's screenshot as test-output/docs-home.png. Skips
// loudly without /usr/bin/chromium unless CI or LARDER_REQUIRE_BROWSER is set.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** Where this test builds the site: its own folder, not docs/.vitepress/dist, which others may rebuild. */
const DIST = join(ROOT, 'test-output/docs-site');
/** The home page's screenshot, beside the build (a file under docs/ would dirty the checkout at every run). */
const SCREENSHOT = join(ROOT, 'test-output/docs-home.png');
const CHROMIUM = '/usr/bin/chromium';
const required = Boolean(process.env.CI || process.env.LARDER_REQUIRE_BROWSER);
const available = existsSync(CHROMIUM);

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

/** Serves `dir` read-only: a folder answers its index.html, anything outside `dir` or missing is 404. */
function serveStatic(dir: string): Promise<Server> {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    let file = normalize(join(dir, path));
    if (!file.startsWith(dir)) return void res.writeHead(404).end();
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!existsSync(file) && existsSync(`${file}.html`)) file = `${file}.html`;
    if (!existsSync(file)) return void res.writeHead(404).end('not found');
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  return new Promise((resolveServer) => server.listen(0, '127.0.0.1', () => resolveServer(server)));
}

let buildMs = 0;
let buildOutput = '';
let buildStatus: number | null = null;

beforeAll(async () => {
  // Not spawnSync: a worker blocked for the whole build misses vitest's RPC deadlines.
  const started = Date.now();
  rmSync(DIST, { recursive: true, force: true });
  const build = spawn('npm', ['run', 'docs:build', '--', '--out', join(DIST, 'api')], {
    cwd: ROOT,
    env: { ...process.env, LARDER_DOCS_OUT: DIST },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  build.stdout.on('data', (chunk: Buffer) => (buildOutput += chunk.toString()));
  build.stderr.on('data', (chunk: Buffer) => (buildOutput += chunk.toString()));
  buildStatus = await new Promise<number | null>((resolveExit) => build.on('close', resolveExit));
  buildMs = Date.now() - started;
  console.log(`npm run docs:build: exit ${buildStatus} in ${(buildMs / 1000).toFixed(1)} s`);
}, 300_000);

describe('npm run docs:build', () => {
  it('builds the site and the API reference', () => {
    expect(buildStatus, buildOutput).toBe(0);
    expect(existsSync(join(DIST, 'index.html'))).toBe(true);
    expect(existsSync(join(DIST, 'getting-started.html'))).toBe(true);
    expect(existsSync(join(DIST, 'api/index.html'))).toBe(true);
    // One module page per public entry: the root and every src/entries/*.ts.
    expect(readFileSync(join(DIST, 'api/index.html'), 'utf8')).toMatch(/redis[\s\S]*test-suite/);
  });
});

if (!available) {
  const message = `${CHROMIUM} not found: the docs site browser test ${required ? 'FAILS (CI/LARDER_REQUIRE_BROWSER set)' : 'is SKIPPED'}.`;
  console.warn(`\n${'!'.repeat(100)}\n${message}\n${'!'.repeat(100)}\n`);
  if (required) {
    describe('docs site in a real browser', () => {
      it('needs /usr/bin/chromium', () => {
        expect.fail(message);
      });
    });
  }
}

describe.runIf(available)('docs site in a real browser', () => {
  let server: Server;
  let browser: Browser;
  let base = '';

  beforeAll(async () => {
    server = await serveStatic(DIST);
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    server?.closeAllConnections();
    await new Promise((resolveClose) => server?.close(resolveClose));
  });

  it('shows the home page with its navigation, and its API reference link works', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(`${base}/`, { waitUntil: 'networkidle' });

    expect(await page.title()).toMatch(/Larder/);
    await expect(page.locator('.VPHero .name').first().textContent()).resolves.toMatch(/Larder/);
    const nav = page.locator('.VPNavBarMenu');
    for (const text of [
      'Getting started',
      'Concepts',
      'Operations',
      'Migrating',
      'Benchmarks',
      'API reference',
    ])
      expect(await nav.getByText(text, { exact: true }).count(), text).toBeGreaterThan(0);

    await page.screenshot({ path: SCREENSHOT });

    // The nav's API reference link leaves the VitePress app for the TypeDoc pages.
    await nav.getByText('API reference', { exact: true }).click();
    await page.waitForURL(/\/api\/index\.html$/);
    await page.waitForLoadState('load');
    expect(await page.title()).toMatch(/larder-cache API reference/);
    expect(await page.getByText('createCache').count()).toBeGreaterThan(0);
    expect(problems).toEqual([]);
    await page.close();
  }, 60_000);

  it('renders a docs page with its sidebar', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/getting-started.html`, { waitUntil: 'networkidle' });
    await expect(page.locator('h1').first().textContent()).resolves.toMatch(/Getting started/);
    expect(await page.locator('.VPSidebar').getByText('The coherence contract').count()).toBeGreaterThan(0);
    await page.close();
  }, 60_000);
});
