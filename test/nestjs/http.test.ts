// LarderModule's HTTP rules in a real Nest 11 app on a loopback port: identity set by a guard (which
// Nest runs after middleware and before interceptors) keys per-user rules, credentials bypass rules
// that are not shared, and successful writes invalidate.
import {
  BadRequestException,
  Body,
  type CanActivate,
  Controller,
  type ExecutionContext,
  Get,
  Header,
  HttpCode,
  Injectable,
  Param,
  Post,
  Redirect,
  Req,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import type { Request } from 'express';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LarderHttpInterceptor } from '../../src/nestjs/interceptor.js';
import type { Cache } from '../../src/cache/types.js';
import { LarderModule } from '../../src/nestjs/module.js';
import { getCacheToken } from '../../src/nestjs/tokens.js';
import { deferred } from '../helpers/deferred.js';
import { rawRequest } from '../http/helpers/server.js';
import { serve, type NestServer } from './helpers.js';

type AuthedRequest = Request & { user?: { id: string } };

/** Session ids the guard accepts, and who they belong to (the header is not a credential header). */
const SESSIONS: Record<string, string> = { 'sess-a': 'alice', 'sess-b': 'bob' };

let calls: Record<string, number>;
const count = (name: string): number => (calls[name] = (calls[name] ?? 0) + 1);

/** The auth guard: the only place identity is set. */
@Injectable()
class SessionGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<AuthedRequest>();
    const session = req.headers['x-session'];
    const id = typeof session === 'string' ? SESSIONS[session] : undefined;
    if (id !== undefined) req.user = { id };
    return true;
  }
}

@Controller()
@UseGuards(SessionGuard)
class ApiController {
  @Get('me')
  me(@Req() req: AuthedRequest): string {
    return `me ${req.user?.id ?? 'anon'} #${count('me')}`;
  }

  @Get('catalog')
  catalog(): { n: number } {
    return { n: count('catalog') };
  }

  @Get('orgs/:org/items')
  items(@Param('org') org: string): { org: string; n: number } {
    return { org, n: count(`items:${org}`) };
  }

  @Post('orgs/:org/items')
  add(@Param('org') org: string, @Body() body: { fail?: boolean }): { org: string } {
    if (body.fail === true) throw new BadRequestException('rejected');
    return { org };
  }

  @Get('boom')
  boom(): never {
    count('boom');
    throw new Error('handler failed');
  }

  @Get('news')
  @Header('cache-control', 'max-age=10, stale-while-revalidate=60')
  news(): string {
    return `news #${count('news')}`;
  }

  @Get('moved')
  @Redirect('/catalog', 301)
  moved(): void {
    count('moved');
  }

  @Get('plain')
  @HttpCode(200)
  plain(): string {
    return `plain #${count('plain')}`;
  }
}

let now: number;
let server: NestServer;

beforeEach(async () => {
  calls = {};
  now = 7_000_000;
  server = await serve({
    imports: [
      LarderModule.forRoot<AuthedRequest>({
        caches: { pages: { clock: () => now, ttl: '5m' } },
        http: {
          clock: () => now,
          user: (req) => req.user?.id,
          rules: [
            { path: '/me', perUser: true, ttl: '1m' },
            { path: '/catalog', ttl: '1m' },
            { path: '/orgs/:org/items', ttl: '5m', shared: true, tags: ['org:{org}'] },
            { path: '/boom', ttl: '1m' },
            { path: '/news' },
            { path: '/moved', ttl: '1m' },
          ],
          invalidate: [{ method: 'POST', path: '/orgs/:org/items', tags: ['org:{org}'] }],
        },
      }),
    ],
    controllers: [ApiController],
  });
});

afterEach(async () => {
  await server.app.close();
});

/** Nothing went wrong behind the answers: no reply sent twice, no error logged (the /boom test expects its own). */
const expectQuiet = (expected: RegExp[] = []) => {
  expect(server.problems).toHaveLength(expected.length);
  expected.forEach((pattern, i) => expect(server.problems[i]).toMatch(pattern));
};

const get = (path: string, headers: Record<string, string> = {}) =>
  rawRequest(`${server.url}${path}`, headers);
const as = (session: string) => ({ 'x-session': session });

describe('LarderModule http: per-user rules with identity from a guard', () => {
  it('keys a perUser rule by the identity the guard set: A never gets B’s answer', async () => {
    const a1 = await get('/me', as('sess-a'));
    expect([a1.status, a1.text, a1.headers['x-cache']]).toEqual([200, 'me alice #1', 'MISS']);
    const a2 = await get('/me', as('sess-a'));
    expect([a2.text, a2.headers['x-cache']]).toEqual(['me alice #1', 'HIT']);
    // The session header is no credential header: only the guard's identity tells B from A.
    const b1 = await get('/me', as('sess-b'));
    expect([b1.text, b1.headers['x-cache']]).toEqual(['me bob #2', 'MISS']);
    expect((await get('/me', as('sess-b'))).text).toBe('me bob #2');
    expect((await get('/me', as('sess-a'))).text).toBe('me alice #1');
    // An unknown session is anonymous, with an entry of its own.
    expect((await get('/me', as('sess-x'))).text).toBe('me anon #3');
    expect(calls.me).toBe(3);
    expectQuiet();
  });

  it('bypasses a rule that is not shared for a caller with an identity or credentials', async () => {
    expect((await get('/catalog')).headers['x-cache']).toBe('MISS');
    const hit = await get('/catalog');
    expect([hit.text, hit.headers['x-cache']]).toEqual(['{"n":1}', 'HIT']);
    // The guard's identity alone makes the request personal: the handler answers, nothing is served or stored.
    const withUser = await get('/catalog', as('sess-a'));
    expect([withUser.text, withUser.headers['x-cache']]).toEqual(['{"n":2}', undefined]);
    // So do credentials the guard did not recognise.
    const withAuth = await get('/catalog', { authorization: 'Bearer token-1' });
    expect([withAuth.text, withAuth.headers['x-cache']]).toEqual(['{"n":3}', undefined]);
    expect((await get('/catalog')).text).toBe('{"n":1}');
    expect(calls.catalog).toBe(3);
    expectQuiet();
  });

  it('serves a shared rule to every caller from one entry', async () => {
    const a = await get('/orgs/o1/items', as('sess-a'));
    const b = await get('/orgs/o1/items', { ...as('sess-b'), authorization: 'Bearer token-2' });
    expect([a.text, a.headers['x-cache']]).toEqual(['{"org":"o1","n":1}', 'MISS']);
    expect([b.text, b.headers['x-cache']]).toEqual(['{"org":"o1","n":1}', 'HIT']);
    expect(calls['items:o1']).toBe(1);
    expectQuiet();
  });
});

describe('LarderModule http: writes, errors and expiry', () => {
  it('invalidates on a successful write, and not on a failed one', async () => {
    await get('/orgs/o1/items');
    await get('/orgs/o2/items');
    const created = await rawRequest(
      `${server.url}/orgs/o1/items`,
      { 'content-type': 'application/json' },
      'POST',
    );
    expect(created.status).toBe(201); // no body: `fail` is unset
    // The successful POST dropped o1's entry (its tag and its URI), not o2's.
    expect((await get('/orgs/o1/items')).text).toBe('{"org":"o1","n":2}');
    expect((await get('/orgs/o2/items')).headers['x-cache']).toBe('HIT');

    const res = await fetch(`${server.url}/orgs/o1/items`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ fail: true }),
    });
    expect(res.status).toBe(400);
    const after = await get('/orgs/o1/items');
    expect([after.text, after.headers['x-cache']]).toEqual(['{"org":"o1","n":2}', 'HIT']);
    expectQuiet();
  });

  it('answers a handler error through Nest’s exception filter and stores nothing', async () => {
    const first = await get('/boom');
    expect(first.status).toBe(500);
    expect(JSON.parse(first.text)).toEqual({ statusCode: 500, message: 'Internal server error' });
    expect((await get('/boom')).status).toBe(500);
    expect(calls.boom).toBe(2);
    expectQuiet([/handler failed/, /handler failed/]);
  });

  it('answers a conditional request 304 from the entry, and Nest sends nothing after it', async () => {
    const first = await get('/catalog');
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^(W\/)?"/);
    const again = await get('/catalog', { 'if-none-match': etag });
    expect([again.status, again.text, again.headers['x-cache']]).toEqual([304, '', 'HIT']);
    expect(calls.catalog).toBe(1);
    expectQuiet();
  });

  it('answers a @Redirect route from the entry, and Nest redirects nothing after it', async () => {
    const first = await get('/moved');
    expect([first.status, first.headers.location, first.headers['x-cache']]).toEqual([
      301,
      '/catalog',
      'MISS',
    ]);
    const again = await get('/moved');
    expect([again.status, again.headers.location, again.headers['x-cache']]).toEqual([
      301,
      '/catalog',
      'HIT',
    ]);
    expect(calls.moved).toBe(1);
    expectQuiet();
  });

  it('answers stale while the handler revalidates in the background (stale-while-revalidate)', async () => {
    expect((await get('/news')).text).toBe('news #1');
    now += 11_000;
    const pages = server.app.get<Cache>(getCacheToken('pages'));
    const revalidated = deferred();
    pages.on('cache:set', () => revalidated.resolve());
    const stale = await get('/news');
    expect([stale.text, stale.headers['x-cache']]).toEqual(['news #1', 'STALE']);
    await revalidated.promise;
    const fresh = await get('/news');
    expect([fresh.text, fresh.headers['x-cache']]).toEqual(['news #2', 'HIT']);
    expect(calls.news).toBe(2);
    expectQuiet();
  });

  it('runs the handler again once the entry expires, and leaves routes without a rule alone', async () => {
    await get('/catalog');
    now += 61_000;
    const again = await get('/catalog');
    expect([again.text, again.headers['x-cache']]).toEqual(['{"n":2}', 'MISS']);
    const plain = await get('/plain');
    expect([plain.text, plain.headers['x-cache']]).toEqual(['plain #1', undefined]);
    expect((await get('/plain')).text).toBe('plain #2');
    expectQuiet();
  });
});

describe('LarderHttpInterceptor bound per controller (http.global: false)', () => {
  @Controller('bound')
  @UseInterceptors(LarderHttpInterceptor)
  class BoundController {
    @Get()
    get(): string {
      return `bound #${count('bound')}`;
    }
  }

  @Controller('unbound')
  class UnboundController {
    @Get()
    get(): string {
      return `unbound #${count('unbound')}`;
    }
  }

  it('caches the routes it is bound to only, resolved from the global module', async () => {
    const local = await serve({
      imports: [
        LarderModule.forRoot({
          caches: { pages: {} },
          http: {
            global: false,
            rules: [
              { path: '/bound', ttl: '1m' },
              { path: '/unbound', ttl: '1m' },
            ],
          },
        }),
      ],
      controllers: [BoundController, UnboundController],
    });
    try {
      const url = local.url;
      expect((await rawRequest(`${url}/bound`)).headers['x-cache']).toBe('MISS');
      const hit = await rawRequest(`${url}/bound`);
      expect([hit.text, hit.headers['x-cache']]).toEqual(['bound #1', 'HIT']);
      await rawRequest(`${url}/unbound`);
      const unbound = await rawRequest(`${url}/unbound`);
      expect([unbound.text, unbound.headers['x-cache']]).toEqual(['unbound #2', undefined]);
      expect(local.problems).toEqual([]);
    } finally {
      await local.app.close();
    }
  });
});
