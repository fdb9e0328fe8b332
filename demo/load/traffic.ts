// The demo's load generator: virtual clients that behave like the seeds' users — UI panels polling
// the stats endpoints, Zipf-distributed short-link redirects and lookups, provider and plan listings,
// per-user integration checks, occasional writes that invalidate, and (with the API key) a short
// integrations outage now and then — for a bounded time, with a summary at the end.
import { zipfSampler } from './zipf.js';

/** Options of {@link runLoad}. */
export interface LoadOptions {
  /** The demo's base URL, e.g. `http://127.0.0.1:8000`. */
  baseUrl: string;
  /** How long to run, ms. */
  durationMs: number;
  /** The admin key: enables provider edits and simulated outages. */
  apiKey?: string;
  /** Concurrent virtual clients (default 8). */
  concurrency?: number;
  /** Randomness (seed it for a reproducible run). */
  random?: () => number;
  /** Stops the run early. */
  signal?: AbortSignal;
  /** Receives a progress line every few seconds. */
  onProgress?: (line: string) => void;
}

/** What a run did. */
export interface LoadReport {
  durationMs: number;
  requests: number;
  /** Answers by status (`'2xx'`, `'3xx'`, `'4xx'`, `'5xx'`) and failed connections (`'error'`). */
  byStatus: Record<string, number>;
  /** Requests per action. */
  byAction: Record<string, number>;
  latencyMs: { p50: number; p99: number };
  /** A few printable lines. */
  summary(): string;
}

const LATENCY_SAMPLES = 10_000;
const STATS_ENDPOINTS = ['/engines/stats/total', '/orchestrator/status', '/vpn/status'];
const RESOURCE_KINDS = ['plans', 'images', 'marketplace', 'regions'];

interface World {
  codes: string[];
  ids: string[];
  providers: Array<{ id: string; kind: string }>;
  plans: Array<{ org: string; provider: string; id: string }>;
  orgs: string[];
}

/** Runs load against a demo until `durationMs` passes or `signal` aborts; resolves with the report. */
export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  const { baseUrl, durationMs, apiKey, concurrency = 8, random = Math.random, signal, onProgress } = options;
  if (!(durationMs > 0)) throw new RangeError(`durationMs must be > 0, got ${durationMs}`);
  if (!Number.isInteger(concurrency) || concurrency <= 0) {
    throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  }
  const started = Date.now();
  const deadline = started + durationMs;
  const byStatus: Record<string, number> = {};
  const byAction: Record<string, number> = {};
  const latencies: number[] = [];
  let requests = 0;

  /** One request, counted and timed; resolves with status and body text, or undefined on a failed connection. */
  const request = async (
    action: string,
    path: string,
    init: RequestInit = {},
  ): Promise<{ status: number; body: string } | undefined> => {
    const t0 = performance.now();
    byAction[action] = (byAction[action] ?? 0) + 1;
    requests++;
    try {
      const res = await fetch(baseUrl + path, { redirect: 'manual', ...init });
      const body = await res.text();
      const cls = `${Math.floor(res.status / 100)}xx`;
      byStatus[cls] = (byStatus[cls] ?? 0) + 1;
      return { status: res.status, body };
    } catch {
      byStatus.error = (byStatus.error ?? 0) + 1;
      return undefined;
    } finally {
      // Reservoir sampling keeps the latency sample bounded however long the run.
      const ms = performance.now() - t0;
      if (latencies.length < LATENCY_SAMPLES) latencies.push(ms);
      else {
        const slot = Math.floor(random() * requests);
        if (slot < LATENCY_SAMPLES) latencies[slot] = ms;
      }
    }
  };
  const json = async <T>(path: string, headers: Record<string, string> = {}): Promise<T> => {
    const res = await fetch(baseUrl + path, { headers });
    if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status}`);
    return (await res.json()) as T;
  };

  const world = await discover(json);
  const engines: string[] = [];
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const codeAt = zipfSampler(world.codes.length, 1, random);
  const idAt = zipfSampler(world.ids.length, 1, random);
  const userAt = zipfSampler(20, 1, random);
  const integrationUserAt = zipfSampler(100, 1, random);
  const adminHeaders: Record<string, string> = apiKey
    ? { 'x-api-key': apiKey, 'content-type': 'application/json' }
    : {};
  const jsonBody = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

  // Weighted actions: reads dominate, as in the seeds' services; writes are about 3 %.
  const actions: Array<[number, () => Promise<unknown>]> = [
    [20, () => request('poll stats', pick(STATS_ENDPOINTS))],
    [26, () => request('redirect', `/r/${world.codes[codeAt()]}`)],
    [8, () => request('url list', '/api/urls/', { headers: { 'x-user-id': `user-${userAt() + 1}` } })],
    [4, () => request('url stats', '/api/urls/stats/', { headers: { 'x-user-id': `user-${userAt() + 1}` } })],
    [
      6,
      () => request('url detail', `/api/urls/${world.ids[idAt()]}`, { headers: { 'x-user-id': 'user-1' } }),
    ],
    [
      10,
      () => {
        const p = pick(world.providers);
        // Only DigitalOcean has a marketplace (seed 000).
        const kinds =
          p.kind === 'digitalocean' ? RESOURCE_KINDS : RESOURCE_KINDS.filter((k) => k !== 'marketplace');
        return request('provider resources', `/api/providers/${p.id}/${pick(kinds)}`);
      },
    ],
    [
      10,
      () =>
        request('integrations', '/api/integrations/status', {
          headers: { 'x-user-id': String(integrationUserAt() + 1) },
        }),
    ],
    [
      10,
      () => {
        const org = pick(world.orgs);
        const plan = pick(world.plans.filter((p) => p.org === org));
        const paths = [
          `/api/v1/subscriptions/${org}/providers`,
          `/api/v1/subscriptions/${org}/all-plans?enabled_only=${random() < 0.5}`,
          plan
            ? `/api/v1/subscriptions/${org}/providers/${plan.provider}/plans`
            : `/api/v1/subscriptions/${org}/providers`,
        ];
        return request('plan lists', pick(paths));
      },
    ],
    [
      1,
      () => {
        const user = `user-${userAt() + 1}`;
        const headers: Record<string, string> = { 'x-user-id': user };
        // Some clients retry with an idempotency key; the second POST must not create a second link.
        if (random() < 0.3) headers['idempotency-key'] = `k${Math.floor(random() * 50)}`;
        return request(
          'url create',
          '/api/urls/',
          jsonBody({ url: `https://example.com/new/${requests}` }, headers),
        );
      },
    ],
    [
      1,
      () => {
        const plan = pick(world.plans);
        return request(
          'plan toggle',
          `/api/v1/subscriptions/${plan.org}/${plan.provider}/toggle/${plan.id}`,
          {
            method: 'POST',
          },
        );
      },
    ],
    [
      0.5,
      async () => {
        // Provisioning and deleting engines invalidate the stats and orchestrator entries (seed 001).
        const id = engines.length > 0 && (random() < 0.5 || engines.length >= 10) ? engines.pop() : undefined;
        if (id !== undefined) return request('engine delete', `/engines/${id}`, { method: 'DELETE' });
        const res = await request('engine provision', '/engines', jsonBody({ name: `load-${requests}` }));
        if (res?.status === 201) engines.push((JSON.parse(res.body) as { id: string }).id);
      },
    ],
  ];
  if (apiKey) {
    actions.push([
      0.3,
      () => {
        const p = pick(world.providers);
        return request('provider update', `/api/admin/providers/${p.id}`, {
          method: 'PUT',
          headers: adminHeaders,
          body: JSON.stringify({ name: `Provider ${p.id} (edited)` }),
        });
      },
    ]);
  }
  const totalWeight = actions.reduce((sum, [w]) => sum + w, 0);
  const nextAction = () => {
    let r = random() * totalWeight;
    for (const [w, run] of actions) if ((r -= w) < 0) return run;
    return actions[0]![1];
  };

  const running = () => Date.now() < deadline && !signal?.aborted;
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  const client = async () => {
    while (running()) {
      await nextAction()();
      await sleep(10 + random() * 40);
    }
  };

  // With the key: every 30 s the integrations upstream goes down for 5 s, so retries, loader errors
  // and the never-throwing fallback show on the dashboard.
  const chaos = async () => {
    if (!apiKey) return;
    while (running()) {
      await sleep(Math.min(25_000, Math.max(0, deadline - Date.now())));
      if (!running()) break;
      await request('outage', '/api/integrations/outage', jsonBody({ down: true }, adminHeaders));
      await sleep(5_000);
      await request('outage', '/api/integrations/outage', jsonBody({ down: false }, adminHeaders));
    }
  };

  const progress = setInterval(() => {
    onProgress?.(
      `${Math.round((Date.now() - started) / 1000)} s: ${requests} requests ${JSON.stringify(byStatus)}`,
    );
  }, 5_000);
  progress.unref();
  try {
    await Promise.all([...Array.from({ length: concurrency }, client), chaos()]);
  } finally {
    clearInterval(progress);
    if (apiKey) await request('outage', '/api/integrations/outage', jsonBody({ down: false }, adminHeaders));
  }

  const sorted = [...latencies].sort((a, b) => a - b);
  const quantile = (q: number) =>
    sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  const report: LoadReport = {
    durationMs: Date.now() - started,
    requests,
    byStatus,
    byAction,
    latencyMs: { p50: round(quantile(0.5)), p99: round(quantile(0.99)) },
    summary() {
      const seconds = this.durationMs / 1000;
      return [
        `load: ${this.requests} requests in ${seconds.toFixed(1)} s (${(this.requests / seconds).toFixed(0)}/s)`,
        `  statuses ${JSON.stringify(this.byStatus)}`,
        `  latency p50 ${this.latencyMs.p50} ms, p99 ${this.latencyMs.p99} ms`,
        `  actions ${JSON.stringify(this.byAction)}`,
      ].join('\n');
    },
  };
  return report;
}

/** Learns the demo's links, providers, orgs and plans, so requests name things that exist. */
async function discover(
  json: <T>(path: string, headers?: Record<string, string>) => Promise<T>,
): Promise<World> {
  const lists = await Promise.all(
    [1, 2, 3, 4, 5].map((n) =>
      json<{ urls: Array<{ id: string; code: string }> }>('/api/urls/', { 'x-user-id': `user-${n}` }),
    ),
  );
  const urls = lists.flatMap((l) => l.urls).sort((a, b) => Number(a.id) - Number(b.id));
  if (urls.length === 0) throw new Error('the demo has no short links to request');
  const providers = await json<Array<{ id: string; kind: string }>>('/api/providers');
  const orgs = ['acme', 'globex', 'initech'];
  const plans = (
    await Promise.all(
      orgs.map(async (org) =>
        (
          await json<Array<{ provider: string; subscription_id: string }>>(
            `/api/v1/subscriptions/${org}/all-plans`,
          )
        ).map((p) => ({ org, provider: p.provider, id: p.subscription_id })),
      ),
    )
  ).flat();
  return { codes: urls.map((u) => u.code), ids: urls.map((u) => u.id), providers, plans, orgs };
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
