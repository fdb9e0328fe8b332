// The demo service as a whole: the dashboard and admin API at /cache, JSON errors, a failed start that
// releases what it built, a load run and the sizing advisor on its traffic, and the real process
// (`npm start`): its start-up lines, the shutdown snapshots on SIGTERM and a refused bad variable.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADVISED_CACHES, startDemo } from '../../demo/app.js';
import { runLoad, type LoadReport } from '../../demo/load/traffic.js';
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

  // Each case here reads the traffic of this block's own load run, never another case's.
  describe('after a short load run', () => {
    let loaded: TestDemo;
    let report: LoadReport;
    beforeAll(async () => {
      loaded = await startTestDemo();
      report = await runLoad({ baseUrl: loaded.demo.url, durationMs: 1500, apiKey: API_KEY, concurrency: 4 });
    });
    afterAll(() => loaded.demo.close());

    it('had no server errors, the caches answering most polls', () => {
      expect(report.requests).toBeGreaterThan(50);
      expect(report.byStatus['5xx'] ?? 0).toBe(0);
      expect(report.byStatus.error ?? 0).toBe(0);
      const { calls } = loaded.demo.upstreams.docker;
      const expensive =
        calls.get('docker.stats') + calls.get('orchestrator.aggregate') + calls.get('vpn.health');
      expect(expensive).toBeLessThan(report.byAction['poll stats']! / 2);
      expect(report.summary()).toMatch(/^load: \d+ requests/);
    });

    it('serves the sizing advisor for the advised caches, sampled from that traffic', async () => {
      const res = await loaded.call('/cache/advisor', { key: true });
      expect(res.status).toBe(200);
      const { caches } = (await res.json()) as {
        caches: Record<
          string,
          null | { curve: { multiplier: number }[]; recommendation: string; sampled_requests: number }
        >;
      };
      expect(Object.keys(caches)).toHaveLength(12);
      for (const name of ADVISED_CACHES) {
        expect(
          caches[name]?.curve.map((p) => p.multiplier),
          name,
        ).toEqual([0.25, 0.5, 1, 2, 4]);
        expect(caches[name]!.recommendation, name).toContain(name);
      }
      expect(caches.url!.sampled_requests).toBeGreaterThan(0);
      expect(caches.stats).toBeNull();
    });
  });

  it('runs no advisor with LARDER_ADVISOR=off', async () => {
    const off = await startTestDemo({ advisor: false });
    try {
      const { caches } = (await (await off.call('/cache/advisor', { key: true })).json()) as {
        caches: Record<string, unknown>;
      };
      expect(Object.values(caches)).toEqual(Array(12).fill(null));
    } finally {
      await off.demo.close();
    }
  });
});

describe('demo process', () => {
  const run = (env: Record<string, string>) =>
    spawn(process.execPath, ['--import', 'tsx', 'demo/main.ts'], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });

  it('prints its URL and generated key, and on SIGTERM writes its snapshots and exits 0', async () => {
    const snapshots = mkdtempSync(join(tmpdir(), 'larder-demo-process-'));
    const child = run({
      PORT: '0',
      LARDER_API_KEY: '',
      DEMO_LATENCY_SCALE: '0',
      LARDER_SNAPSHOT_DIR: snapshots,
    });
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
    expect(out).toContain(`snapshots       ${snapshots}, every 1 min and at shutdown`);
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    try {
      expect(readdirSync(snapshots)).toContain('url-shortener.snap');
      expect(readdirSync(snapshots)).toContain('plans.snap');
    } finally {
      rmSync(snapshots, { recursive: true, force: true });
    }
  });

  it('refuses a bad variable with a message naming it', async () => {
    const child = run({ PORT: 'eighty', LARDER_SNAPSHOT_DIR: 'off' });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    const [code] = await once(child, 'exit');
    expect(code).toBe(1);
    expect(err).toContain('PORT must be a number');
  });
});
