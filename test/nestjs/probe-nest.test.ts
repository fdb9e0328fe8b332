// Probes of the Nest interceptor: per-user answers through Observables, streams, rejections and
// headers set by decorators or the response; writes under a global prefix and URI versioning.
import 'reflect-metadata';
import {
  type CanActivate,
  Controller,
  type ExecutionContext,
  Get,
  Header,
  Injectable,
  Post,
  Req,
  Res,
  StreamableFile,
  UseGuards,
  UseInterceptors,
  VersioningType,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { Request, Response } from 'express';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { from, of } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LarderHttpInterceptor } from '../../src/nestjs/interceptor.js';
import { LarderModule } from '../../src/nestjs/module.js';
import { serve } from './helpers.js';
import { rawRequest } from '../http/helpers/server.js';
import type { INestApplication } from '@nestjs/common';

type AuthedRequest = Request & { user?: { id: string } };
const SESSIONS: Record<string, string> = { 'sess-a': 'alice', 'sess-b': 'bob' };
let n = 0;

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

@Controller({ path: 'items', version: '1' })
@UseGuards(SessionGuard)
class ProbeController {
  @Get('obs')
  obs(@Req() req: AuthedRequest) {
    return of(`obs ${req.user?.id ?? 'anon'} #${++n}`);
  }

  @Get('stream')
  stream(@Req() req: AuthedRequest): StreamableFile {
    return new StreamableFile(Readable.from([Buffer.from(`stream ${req.user?.id ?? 'anon'} #${++n}`)]));
  }

  @Get('reject')
  async reject(@Req() req: AuthedRequest): Promise<string> {
    await Promise.resolve();
    if (req.headers['x-fail'] === '1') throw new Error(`failed for ${req.user?.id ?? 'anon'}`);
    return `reject ${req.user?.id ?? 'anon'} #${++n}`;
  }

  @Get('cookie')
  @Header('set-cookie', 'sid=abc')
  cookie(): string {
    return `cookie #${++n}`;
  }

  @Get('private')
  priv(@Res({ passthrough: true }) res: Response): string {
    res.setHeader('cache-control', 'private, max-age=60');
    return `private #${++n}`;
  }

  @Get('nostore')
  @Header('cache-control', 'no-store')
  nostore(): string {
    return `nostore #${++n}`;
  }

  @Get('later')
  later(@Req() req: AuthedRequest) {
    return from(Promise.resolve().then(() => `later ${req.user?.id ?? 'anon'} #${++n}`));
  }

  @Get('raw')
  async raw(@Req() req: AuthedRequest, @Res() res: Response): Promise<void> {
    await Promise.resolve();
    res.setHeader('x-who', req.user?.id ?? 'anon');
    res.json({ raw: req.user?.id ?? 'anon', n: ++n });
  }

  @Get('list')
  list(): string {
    return `list #${++n}`;
  }

  @Post('list')
  add(): string {
    return 'ok';
  }
}

let app: INestApplication;
let url: string;
const now = 9_000_000;

beforeEach(async () => {
  n = 0;
  const moduleRef = await Test.createTestingModule({
    imports: [
      LarderModule.forRoot<AuthedRequest>({
        caches: { pages: { clock: () => now, ttl: '5m' } },
        http: {
          clock: () => now,
          user: (req) => req.user?.id,
          rules: [
            { path: '/api/v1/items/obs', perUser: true, ttl: '1m' },
            { path: '/api/v1/items/later', perUser: true, ttl: '1m' },
            { path: '/api/v1/items/raw', ttl: '1m' },
            { path: '/api/v1/items/stream', perUser: true, ttl: '1m' },
            { path: '/api/v1/items/reject', perUser: true, ttl: '1m' },
            { path: '/api/v1/items/cookie', ttl: '1m', shared: true },
            { path: '/api/v1/items/private', ttl: '1m', shared: true },
            { path: '/api/v1/items/nostore', ttl: '1m', shared: true },
            { path: '/api/v1/items/list', ttl: '1m', shared: true, tags: ['list'] },
          ],
          invalidate: [{ method: 'POST', path: '/api/v1/items/list', tags: ['list'] }],
        },
      }),
    ],
    controllers: [ProbeController],
  }).compile();
  app = moduleRef.createNestApplication({ logger: false });
  app.setGlobalPrefix('api');
  app.enableVersioning({ type: VersioningType.URI });
  await app.listen(0, '127.0.0.1');
  const { port } = (app.getHttpServer() as { address(): AddressInfo }).address();
  url = `http://127.0.0.1:${port}`;
});

afterEach(async () => {
  await app.close();
});

const get = (path: string, headers: Record<string, string> = {}) => rawRequest(`${url}${path}`, headers);
const as = (s: string, more: Record<string, string> = {}) => ({ 'x-session': s, ...more });

describe('probe: Nest per-user answers', () => {
  it('an @Res() route and a late Observable stay per user; cookies and auth bypass', async () => {
    const p = '/api/v1/items/raw';
    expect((await get(p)).text).toBe('{"raw":"anon","n":1}');
    expect((await get(p)).headers['x-cache']).toBe('HIT');
    const a = await get(p, as('sess-a'));
    expect([a.text, a.headers['x-who']]).toEqual(['{"raw":"alice","n":2}', 'alice']);
    expect((await get(p, { cookie: 'sid=1' })).text).toBe('{"raw":"anon","n":3}');
    expect((await get(p, { authorization: 'Basic eA==' })).text).toBe('{"raw":"anon","n":4}');
    const l = '/api/v1/items/later';
    expect((await get(l, as('sess-a'))).text).toBe('later alice #5');
    expect((await get(l, as('sess-b'))).text).toBe('later bob #6');
    expect((await get(l, as('sess-a'))).text).toBe('later alice #5');
  });

  it('a HEAD miss does not store an empty body for GET', async () => {
    const p = '/api/v1/items/list?h=1';
    const head = await rawRequest(`${url}${p}`, {}, 'HEAD');
    expect([head.status, head.text]).toEqual([200, '']);
    const g = await get(p);
    expect(g.text).toMatch(/^list #\d$/);
  });

  it.each(['obs', 'stream', 'reject'])('keeps %s answers per user', async (route) => {
    const p = `/api/v1/items/${route}`;
    const a1 = await get(p, as('sess-a'));
    expect(a1.text).toMatch(new RegExp(`^${route} alice #1$`));
    const a2 = await get(p, as('sess-a'));
    expect([a2.text, a2.headers['x-cache']]).toEqual([a1.text, 'HIT']);
    const b1 = await get(p, as('sess-b'));
    expect(b1.text).toBe(`${route} bob #2`);
    const anon = await get(p);
    expect(anon.text).toBe(`${route} anon #3`);
    expect((await get(p, as('sess-b'))).text).toBe(`${route} bob #2`);
  });

  it('a rejecting handler is not stored and does not leak', async () => {
    const p = '/api/v1/items/reject';
    const f = await get(p, as('sess-a', { 'x-fail': '1' }));
    expect(f.status).toBe(500);
    const b = await get(p, as('sess-b'));
    expect(b.text).toBe('reject bob #1');
    const a = await get(p, as('sess-a'));
    expect(a.text).toBe('reject alice #2');
  });

  it.each(['cookie', 'private', 'nostore'])('does not store a %s response', async (route) => {
    const p = `/api/v1/items/${route}`;
    expect((await get(p)).text).toBe(`${route} #1`);
    const second = await get(p);
    expect(second.text).toBe(`${route} #2`);
    expect(second.headers['x-cache']).not.toBe('HIT');
  });

  it('a POST under a global prefix and URI version invalidates', async () => {
    const p = '/api/v1/items/list';
    expect((await get(p)).text).toBe('list #1');
    expect((await get(p)).headers['x-cache']).toBe('HIT');
    const post = await rawRequest(`${url}${p}`, {}, 'POST');
    expect(post.status).toBe(201);
    expect((await get(p)).text).toBe('list #2');
  });

  it('HEAD shares with GET, and query order does not split', async () => {
    const p = '/api/v1/items/list';
    expect((await get(`${p}?b=2&a=1`)).text).toBe('list #1');
    const again = await get(`${p}?a=1&b=2`);
    expect(again.headers['x-cache']).toBe('HIT');
    const head = await rawRequest(`${url}${p}?a=1&b=2`, {}, 'HEAD');
    expect([head.status, head.text, head.headers['x-cache']]).toEqual([200, '', 'HIT']);
  });
});

describe('probe: LarderModule registered twice', () => {
  it('two forRoot({ http }) imports: answers are right, no error, writes invalidate', async () => {
    n = 0;
    const make = (name: string) =>
      LarderModule.forRoot({
        caches: { [name]: { clock: () => now, ttl: '5m' } },
        http: {
          clock: () => now,
          rules: [{ path: '/api/v1/items/list', ttl: '1m', shared: true, tags: ['list'] }],
          invalidate: [{ method: 'POST', path: '/api/v1/items/list', tags: ['list'] }],
        },
      });
    const problems: string[] = [];
    const note = (...args: unknown[]) => void problems.push(args.map(String).join(' '));
    const moduleRef = await Test.createTestingModule({
      imports: [make('one'), make('two')],
      controllers: [ProbeController],
    }).compile();
    const twice = moduleRef.createNestApplication({
      logger: { log: () => undefined, error: note, warn: note, fatal: note },
    });
    twice.setGlobalPrefix('api');
    twice.enableVersioning({ type: VersioningType.URI });
    await twice.listen(0, '127.0.0.1');
    const { port } = (twice.getHttpServer() as { address(): AddressInfo }).address();
    const base = `http://127.0.0.1:${port}/api/v1/items/list`;
    try {
      const first = await rawRequest(base, {});
      expect([first.status, first.text]).toEqual([200, 'list #1']);
      const second = await rawRequest(base, {});
      expect([second.status, second.text, second.headers['x-cache']]).toEqual([200, 'list #1', 'HIT']);
      expect((await rawRequest(base, {}, 'POST')).status).toBe(201);
      const third = await rawRequest(base, {});
      expect([third.status, third.text]).toEqual([200, 'list #2']);
      expect(problems).toEqual([]);
    } finally {
      await twice.close();
    }
  });
});

describe('probe: one manager in two registrations', () => {
  it('a manager two registrations share is closed on app.close(), without an error', async () => {
    const { createCacheManager } = await import('../../src/cache/manager.js');
    const manager = createCacheManager({ caches: { pages: { clock: () => now, ttl: '5m' } } });
    const moduleRef = await Test.createTestingModule({
      imports: [
        LarderModule.forRoot({ caches: manager }),
        LarderModule.forRoot({ caches: manager, isGlobal: false }),
      ],
    }).compile();
    const twice = moduleRef.createNestApplication({ logger: false });
    await twice.init();
    await expect(twice.close()).resolves.toBeUndefined();
    expect(manager.get('pages').health()).toMatchObject({ status: 'degraded', reason: 'closed' });
  });
});

let doubled = 0;

@Controller()
@UseInterceptors(LarderHttpInterceptor)
class DoubleBoundController {
  @Get('x')
  x(): string {
    return `x #${++doubled}`;
  }
}

describe('probe: the interceptor bound twice to a route', () => {
  // With http.global and @UseInterceptors(LarderHttpInterceptor) both, the second binding saw the
  // first's run in flight for the same key and waited for it: for waitTimeout (5s by default), as the
  // first run was waiting on it. waitTimeout is an hour here: the test times out unless nothing waits.
  it('global plus @UseInterceptors answers a miss at once, and a hit after it', async () => {
    doubled = 0;
    const server = await serve({
      imports: [
        LarderModule.forRoot({
          caches: { pages: { clock: () => now, ttl: '5m' } },
          http: { clock: () => now, waitTimeout: '1h', rules: [{ path: '/x', ttl: '1m' }] },
        }),
      ],
      controllers: [DoubleBoundController],
    });
    try {
      const a = await rawRequest(`${server.url}/x`, {});
      expect([a.status, a.text, a.headers['x-cache']]).toEqual([200, 'x #1', 'MISS']);
      const b = await rawRequest(`${server.url}/x`, {});
      expect([b.status, b.text, b.headers['x-cache']]).toEqual([200, 'x #1', 'HIT']);
      expect(server.problems).toEqual([]);
    } finally {
      await server.app.close();
    }
  }, 3_000);
});
