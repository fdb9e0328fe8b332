// docs/grafana-dashboard.json (issue 14) may only query series that larder-cache/prometheus really exposes:
// every metric name in its panel expressions and template queries must appear in the exposition of a
// real cache's registry (histogram series by their _bucket/_sum/_count names).
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createCache } from '../../src/cache/create-cache.js';
import { registerMetrics } from '../../src/entries/prometheus.js';

const FILE = resolve(dirname(fileURLToPath(import.meta.url)), '../../docs/grafana-dashboard.json');
const METRIC = /\blarder_[a-zA-Z0-9_:]+/g;

interface Target {
  expr?: string;
}
interface Panel {
  type: string;
  title: string;
  targets?: Target[];
  panels?: Panel[];
}

function dashboard() {
  return JSON.parse(readFileSync(FILE, 'utf8')) as {
    panels: Panel[];
    templating: { list: Array<{ query?: unknown; definition?: string }> };
  };
}

/** Every PromQL expression of the dashboard: panel targets (rows included) and template queries. */
function expressions(): string[] {
  const d = dashboard();
  const out: string[] = [];
  const walk = (panels: Panel[]): void => {
    for (const p of panels) {
      for (const t of p.targets ?? []) if (t.expr !== undefined) out.push(t.expr);
      walk(p.panels ?? []);
    }
  };
  walk(d.panels);
  for (const v of d.templating.list) {
    if (typeof v.definition === 'string') out.push(v.definition);
    const q = v.query as { query?: unknown } | string | undefined;
    if (typeof q === 'string') out.push(q);
    else if (typeof q?.query === 'string') out.push(q.query);
  }
  return out;
}

/** Series names in the exposition text of a registry with one cache that has hit, missed and loaded. */
async function exposedNames(): Promise<Set<string>> {
  const registry = new Registry();
  const cache = createCache<string>({ name: 'dash' });
  const handle = registerMetrics(cache, { registry });
  await cache.getOrSet('k', () => 'v');
  await cache.getOrSet('k', () => 'v');
  const text = await registry.metrics();
  handle.unregister();
  await cache.close();
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    names.add(line.split(/[{\s]/, 1)[0]!);
  }
  return names;
}

describe('docs/grafana-dashboard.json', () => {
  it('is a dashboard whose panels all query something', () => {
    const d = dashboard();
    const panels = d.panels.filter((p) => p.type !== 'row');
    expect(panels.length).toBeGreaterThanOrEqual(8);
    for (const p of panels) expect(p.targets?.length ?? 0, p.title).toBeGreaterThan(0);
  });

  it('queries only metrics that larder-cache/prometheus registers', async () => {
    const used = new Set(expressions().flatMap((e) => e.match(METRIC) ?? []));
    const exposed = await exposedNames();
    // The walk must find the metrics it checks, and the registry must really expose some.
    expect(used.size).toBeGreaterThanOrEqual(10);
    expect(exposed.has('larder_cache_load_duration_seconds_bucket')).toBe(true);
    expect([...used].filter((name) => !exposed.has(name))).toEqual([]);
  });

  it('covers the hit ratio, load latency quantiles, size, evictions and stale hits', () => {
    const all = expressions().join('\n');
    for (const name of [
      'larder_cache_hit_ratio',
      'larder_cache_load_duration_seconds_bucket',
      'larder_cache_entries',
      'larder_cache_bytes',
      'larder_cache_evictions_total',
      'larder_cache_stale_hits_total',
    ]) {
      expect(all, name).toContain(name);
    }
    expect(all).toMatch(/histogram_quantile\(0\.99,/);
    expect(all).toMatch(/histogram_quantile\(0\.5,/);
  });
});
