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

  it('a write whose params are wildcards (/subscriptions/%2A/providers/%2A/plans) invalidates no other org', async () => {
    await start({ rules, invalidate });
    await prime();
    writeStatus = 201;
    expect(await send('POST', '/subscriptions/%2A/providers/%2A/plans')).toBe(201);
    expect(await send('POST', '/subscriptions/%3F%3F%3F%3F/providers/%2A/plans')).toBe(201);
    expect(keys()).toEqual(ALL);
    const line = logged.find((l) => l.message === 'Cache INVALIDATE');
    expect(line?.fields).toMatchObject({ count: 0, patterns: ['plans_list_%2A_%2A_*', 'all_plans_%2A_*'] });
    // An org literally named `*` is still invalidated: the value is encoded alike in keys and patterns.
    await fetch(`${server.url}/subscriptions/%2A/providers/slack/plans?include_disabled=True`);
    expect(keys()).toContain('plans_list_%2A_slack_True');
    await send('POST', '/subscriptions/%2A/providers/slack/plans');
    expect(keys()).toEqual(ALL);
  });

  it('keys of orgs and providers whose names hold the separator never collide, nor invalidate each other', async () => {
    await start({ rules, invalidate });
    // Raw, both would be plans_list_a_b_c_True and the second request would get the first's body.
    const first = await fetch(`${server.url}/subscriptions/a_b/providers/c/plans?include_disabled=True`);
    const second = await fetch(`${server.url}/subscriptions/a/providers/b_c/plans?include_disabled=True`);
    expect(second.headers.get('x-cache')).toBe('MISS');
    expect(await second.text()).not.toBe(await first.text());
    for (const org of ['a', 'a_b'])
      await fetch(`${server.url}/subscriptions/${org}/all-plans?enabled_only=true`);
    expect(keys()).toEqual([
      'all_plans_a%5Fb_true',
      'all_plans_a_true',
      'plans_list_a%5Fb_c_True',
      'plans_list_a_b%5Fc_True',
    ]);
    // Raw, org a's patterns plans_list_a_b_* and all_plans_a_* would also wipe org a_b's entries.
    await send('POST', '/subscriptions/a/providers/b/plans');
    expect(keys()).toEqual(['all_plans_a%5Fb_true', 'plans_list_a%5Fb_c_True', 'plans_list_a_b%5Fc_True']);
    await send('POST', '/subscriptions/a/providers/b_c/plans');
    expect(keys()).toEqual(['all_plans_a%5Fb_true', 'plans_list_a%5Fb_c_True']);
    await send('POST', '/subscriptions/a_b/providers/c/plans');
    expect(keys()).toEqual([]);
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
    const host = new URL(server.url).host;
    expect(keys()).toEqual([`GET /orgs/a/items/2 host=${host}`, `GET /orgs/b/items/1 host=${host}`]);
    await send('DELETE', '/orgs/a');
    expect(keys()).toEqual([`GET /orgs/b/items/1 host=${host}`]);
  });
});
