import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCache } from '../../src/cache/create-cache.js';
import type { Cache } from '../../src/cache/types.js';
import { createHttpCache, type HttpCacheOptions } from '../../src/http/http-cache.js';
import type { InvalidationRule } from '../../src/http/rules.js';
import { listen, type TestServer } from './helpers/server.js';

let cache: Cache;
let server: TestServer;
let writeStatus = 200;
const logged: { message: string; fields: Record<string, unknown> }[] = [];
const logger = {
  debug: (message: string, fields: Record<string, unknown>) => logged.push({ message, fields }),
};

/** Answers every GET with its path and a counter, every write with `writeStatus`. */
function app(req: IncomingMessage, res: ServerResponse, counter = { n: 0 }): void {
  if (req.method !== 'GET') {
    res.statusCode = writeStatus;
    return void res.end('written');
  }
  res.setHeader('content-type', 'text/plain');
  res.end(`${req.url} #${++counter.n}`);
}

async function start(options: Omit<HttpCacheOptions, 'cache'>): Promise<void> {
  const mw = createHttpCache({ cache, logger, ...options });
  const counter = { n: 0 };
  server = await listen((req, res) => void mw(req, res, () => app(req, res, counter)));
}

const send = (method: string, path: string) => fetch(server.url + path, { method }).then((r) => r.status);
const keys = () =>
  cache
    .entries()
    .map((e) => e.key)
    .sort();

beforeEach(() => {
  cache = createCache({ name: 'api', ttl: '5m' });
  writeStatus = 200;
  logged.length = 0;
});
afterEach(async () => {
  await server.close();
  await cache.close();
});

describe("seed 003: the invalidation guide's six write endpoints, as rules alone", () => {
  // The three cached endpoints with the guide's cache keys.
  const rules = [
    { path: '/subscriptions/:org/providers', ttl: '5m', key: 'providers_list_{org}' },
    {
      path: '/subscriptions/:org/providers/:provider/plans',
      ttl: '5m',
      key: 'plans_list_{org}_{provider}_{include_disabled}',
    },
    { path: '/subscriptions/:org/all-plans', ttl: '5m', key: 'all_plans_{org}_{enabled_only}' },
  ];
  // Every write invalidates plans_list_{org}_{provider}_*, all_plans_{org}_* and providers_list_{org}.
  const sameAsCreatePlan = {
    keys: ['providers_list_{org}'],
    patterns: ['plans_list_{org}_{provider}_*', 'all_plans_{org}_*'],
  };
  const invalidate: InvalidationRule[] = [
    { method: 'POST', path: '/subscriptions/:org/providers/:provider/plans', ...sameAsCreatePlan },
    {
      method: ['PUT', 'DELETE'],
      path: '/subscriptions/:org/providers/:provider/plans/:subscription_id',
      ...sameAsCreatePlan,
    },
    { method: 'POST', path: '/subscriptions/:org/providers/:provider/enable', ...sameAsCreatePlan },
    { method: 'POST', path: '/subscriptions/:org/providers/:provider/disable', ...sameAsCreatePlan },
    {
      method: 'POST',
      path: '/subscriptions/:org/providers/:provider/toggle/:subscription_id',
      ...sameAsCreatePlan,
    },
  ];

  async function prime(): Promise<void> {
    for (const org of ['acme', 'globex']) {
      await fetch(`${server.url}/subscriptions/${org}/providers`);
      await fetch(`${server.url}/subscriptions/${org}/all-plans?enabled_only=true`);
      for (const provider of ['slack', 'canva']) {
        await fetch(`${server.url}/subscriptions/${org}/providers/${provider}/plans?include_disabled=True`);
        await fetch(`${server.url}/subscriptions/${org}/providers/${provider}/plans?include_disabled=False`);
      }
    }
  }

  const ALL = [
    'all_plans_acme_true',
    'all_plans_globex_true',
    'plans_list_acme_canva_False',
    'plans_list_acme_canva_True',
    'plans_list_acme_slack_False',
    'plans_list_acme_slack_True',
    'plans_list_globex_canva_False',
    'plans_list_globex_canva_True',
    'plans_list_globex_slack_False',
    'plans_list_globex_slack_True',
    'providers_list_acme',
    'providers_list_globex',
  ];

  it.each([
    ['create plan', 'POST', '/subscriptions/acme/providers/slack/plans', 'slack'],
    ['update plan', 'PUT', '/subscriptions/acme/providers/slack/plans/sub_slack_pro_a1b2c3', 'slack'],
    ['delete plan', 'DELETE', '/subscriptions/acme/providers/slack/plans/sub_slack_pro_a1b2c3', 'slack'],
    ['enable provider', 'POST', '/subscriptions/acme/providers/canva/enable', 'canva'],
    ['disable provider', 'POST', '/subscriptions/acme/providers/canva/disable', 'canva'],
    ['toggle plan', 'POST', '/subscriptions/acme/providers/slack/toggle/sub_slack_pro_a1b2c3', 'slack'],
  ])(
    '%s (%s %s) invalidates exactly its org and provider, and logs the count',
    async (_name, method, path, provider) => {
      await start({ rules, invalidate });
      await prime();
      expect(keys()).toEqual(ALL);
      expect(await send(method, path)).toBe(200);
      const gone = [
        'all_plans_acme_true',
        `plans_list_acme_${provider}_False`,
        `plans_list_acme_${provider}_True`,
        'providers_list_acme',
      ];
      expect(keys()).toEqual(ALL.filter((k) => !gone.includes(k)));
      const line = logged.find((l) => l.message === 'Cache INVALIDATE');
      expect(line?.fields).toMatchObject({ method, count: 4, keys: ['providers_list_acme'] });
    },
  );

  it('a failed write invalidates nothing', async () => {
    await start({ rules, invalidate });
    await prime();
    for (writeStatus of [400, 409, 500]) {
      expect(await send('POST', '/subscriptions/acme/providers/slack/plans')).toBe(writeStatus);
    }
    expect(keys()).toEqual(ALL);
    expect(logged.filter((l) => l.message === 'Cache INVALIDATE')).toHaveLength(0);
  });

  it('the next read after a write is already a miss (the write answers after invalidating)', async () => {
    await start({ rules, invalidate });
    const url = `${server.url}/subscriptions/acme/providers`;
    const before = await (await fetch(url)).text();
    expect((await fetch(url)).headers.get('x-cache')).toBe('HIT');
    await send('POST', '/subscriptions/acme/providers/slack/enable');
    const after = await fetch(url);
    expect(after.headers.get('x-cache')).toBe('MISS');
    expect(await after.text()).not.toBe(before);
  });
});

describe('seed 001: engine provisioned/deleted events as rules', () => {
  it('provisioning or deleting an engine drops stats:total and orchestrator:status, not vpn:status', async () => {
    await start({
      rules: [
        { path: '/engines/stats/total', ttl: '3s', key: 'stats:total' },
        { path: '/orchestrator/status', ttl: '2s', key: 'orchestrator:status' },
        { path: '/vpn/status', ttl: '3s', key: 'vpn:status' },
      ],
      invalidate: [
        { method: 'POST', path: '/engines', keys: ['stats:total', 'orchestrator:status'] },
        { method: 'DELETE', path: '/engines/:id', keys: ['stats:total', 'orchestrator:status'] },
      ],
    });
    const prime = async () => {
      for (const p of ['/engines/stats/total', '/orchestrator/status', '/vpn/status'])
        await fetch(server.url + p);
    };
    await prime();
    expect(keys()).toEqual(['orchestrator:status', 'stats:total', 'vpn:status']);
    await send('POST', '/engines');
    expect(keys()).toEqual(['vpn:status']);
    await prime();
    await send('DELETE', '/engines/e-42');
    expect(keys()).toEqual(['vpn:status']);
    await send('PUT', '/engines/e-42');
    await prime();
    await send('PATCH', '/engines/e-42');
    expect(keys()).toEqual(['orchestrator:status', 'stats:total', 'vpn:status']);
  });
});

describe('tags from route params', () => {
  it('a write invalidates the entries tagged with its params only', async () => {
    await start({
      rules: [{ path: '/orgs/:org/items/:id', tags: ['org:{org}', 'item:{org}:{id}'] }],
      invalidate: [
        { method: 'PUT', path: '/orgs/:org/items/:id', tags: ['item:{org}:{id}'] },
        { method: 'DELETE', path: '/orgs/:org', tags: ['org:{org}'] },
      ],
    });
    for (const p of ['/orgs/a/items/1', '/orgs/a/items/2', '/orgs/b/items/1']) await fetch(server.url + p);
    await send('PUT', '/orgs/a/items/1');
    expect(keys()).toEqual(['GET /orgs/a/items/2', 'GET /orgs/b/items/1']);
    await send('DELETE', '/orgs/a');
    expect(keys()).toEqual(['GET /orgs/b/items/1']);
  });
});
