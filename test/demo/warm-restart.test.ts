// Issue 7's acceptance for the demo: its caches survive a restart. A demo on a temporary snapshot
// folder is warmed, closed (close() takes the shutdown snapshots) and started again on the same folder;
// the second instance answers from the restored caches without calling its upstreams.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SNAPSHOT_FILES } from '../../demo/app.js';
import { startTestDemo, type TestDemo } from './helpers.js';

describe('demo warm restarts', () => {
  let dir: string;
  const running: TestDemo[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'larder-demo-snapshots-'));
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((t) => t.demo.close()));
    rmSync(dir, { recursive: true, force: true });
  });
  const start = async () => {
    const t = await startTestDemo({ snapshotDir: dir });
    running.push(t);
    return t;
  };

  it('serves provider plans and a redirect from the restored caches after a restart', async () => {
    const first = await start();
    const code = first.demo.upstreams.urls.codes()[0]!;
    const plans = await first.call('/api/providers/prov-1/plans');
    expect(plans.status).toBe(200);
    const body = await plans.json();
    const redirect = await first.call(`/r/${code}`);
    expect(redirect.status).toBe(302);
    expect(first.demo.upstreams.providers.calls.get('linode.plans')).toBe(1);
    expect(first.demo.upstreams.urls.calls.get('urls.resolve')).toBe(1);
    await first.demo.close();
    // One file per cache, one for seed 004's manager (the `url` cache lives there).
    expect(readdirSync(dir)).toEqual(
      expect.arrayContaining([SNAPSHOT_FILES.cache('plans'), SNAPSHOT_FILES.urlManager]),
    );

    const second = await start();
    const again = await second.call('/api/providers/prov-1/plans');
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual(body);
    const redirectAgain = await second.call(`/r/${code}`);
    expect(redirectAgain.status).toBe(302);
    expect(redirectAgain.headers.get('location')).toBe(redirect.headers.get('location'));
    // Fresh upstreams with fresh counters: any call would have been counted here.
    expect(second.demo.upstreams.providers.calls.get('linode.plans')).toBe(0);
    expect(second.demo.upstreams.urls.calls.get('urls.resolve')).toBe(0);
    expect(second.demo.caches.plans!.stats().hits).toBe(1);
  });

  it('starts cold again when persistence is off', async () => {
    for (let run = 0; run < 2; run++) {
      const t = await startTestDemo({ snapshotDir: undefined });
      running.push(t);
      await t.call('/api/providers/prov-1/plans');
      expect(t.demo.upstreams.providers.calls.get('linode.plans')).toBe(1);
      await t.demo.close();
    }
    expect(readdirSync(dir)).toEqual([]);
  });
});
