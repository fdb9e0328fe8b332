import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemo } from '../../demo/app.js';
import { runLoad } from '../../demo/load/traffic.js';
import { API_KEY, startTestDemo, type TestDemo } from './helpers.js';

describe('demo service', () => {
  let t: TestDemo;
  beforeAll(async () => {
    t = await startTestDemo();
  });
  afterAll(() => t.demo.close());

  it('serves the dashboard page without a key, and its data only with one', async () => {
    const page = await t.call('/cache/dashboard');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toContain('Larder dashboard');
    expect((await t.call('/cache/health')).status).toBe(401);
    const health = (await (await t.call('/cache/health', { key: true })).json()) as { caches: object };
    expect(Object.keys(health.caches)).toHaveLength(12);
  });

  it('answers unknown routes and wrong methods as JSON errors, and malformed bodies with 400', async () => {
    expect((await t.call('/nope')).status).toBe(404);
    expect((await t.call('/engines/stats/total', { method: 'POST' })).status).toBe(405);
    const bad = await t.call('/engines', {
      method: 'POST',
      body: '{',
      headers: { 'content-type': 'application/json' },
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: 'request body is not valid JSON' });
  });

  it('fails to start on a port in use, releasing what it built', async () => {
    const port = Number(new URL(t.demo.url).port);
    await expect(startDemo({ ...t.demo.config, port })).rejects.toThrow(/EADDRINUSE/);
  });

  it('survives a short load run with no server errors, the caches answering most polls', async () => {
    const report = await runLoad({ baseUrl: t.demo.url, durationMs: 1500, apiKey: API_KEY, concurrency: 4 });
    expect(report.requests).toBeGreaterThan(50);
    expect(report.byStatus['5xx'] ?? 0).toBe(0);
    expect(report.byStatus.error ?? 0).toBe(0);
    const { calls } = t.demo.upstreams.docker;
    const expensive =
      calls.get('docker.stats') + calls.get('orchestrator.aggregate') + calls.get('vpn.health');
    expect(expensive).toBeLessThan(report.byAction['poll stats']! / 2);
    expect(report.summary()).toMatch(/^load: \d+ requests/);
  });
});

describe('demo process', () => {
  const run = (env: Record<string, string>) =>
    spawn(process.execPath, ['--import', 'tsx', 'demo/main.ts'], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });

  it('prints its URL and generated key, and exits 0 on SIGTERM', async () => {
    const child = run({ PORT: '0', LARDER_API_KEY: '', DEMO_LATENCY_SCALE: '0' });
    let out = '';
    child.stdout.setEncoding('utf8');
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: string) => {
        out += chunk;
        if (out.includes('Ctrl-C')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`exited early with ${code}: ${out}`)));
    });
    const url = /listening on (http:\S+)/.exec(out)![1]!;
    const key = /API key\s+(\S+)/.exec(out)![1]!;
    expect((await fetch(`${url}/cache/stats`, { headers: { 'x-api-key': key } })).status).toBe(200);
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });

  it('refuses a bad variable with a message naming it', async () => {
    const child = run({ PORT: 'eighty' });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    const [code] = await once(child, 'exit');
    expect(code).toBe(1);
    expect(err).toContain('PORT must be a number');
  });
});
