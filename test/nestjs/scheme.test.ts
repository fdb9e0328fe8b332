// LarderModule's HTTP cache behind a TLS-terminating proxy: with Express's `trust proxy` on, a stored
// answer is served only to requests of the scheme (req.protocol) it was built for; without it, the
// client's X-Forwarded-Proto splits nothing.
import { Controller, Get, Req } from '@nestjs/common';
import type { Express, Request } from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { LarderModule } from '../../src/nestjs/module.js';
import { rawRequest } from '../http/helpers/server.js';
import { serve, type NestServer } from './helpers.js';

let n = 0;

@Controller()
class PageController {
  @Get('page')
  page(@Req() req: Request): string {
    return `${req.protocol} ${++n}`;
  }
}

let server: NestServer;
afterEach(async () => {
  await server.app.close();
});

async function start(trust: boolean): Promise<void> {
  n = 0;
  server = await serve({
    imports: [
      LarderModule.forRoot({ caches: { pages: {} }, http: { rules: [{ path: '/page', ttl: '5m' }] } }),
    ],
    controllers: [PageController],
  });
  // Read by req.protocol on every request, so setting it after listen applies.
  if (trust) (server.app.getHttpAdapter().getInstance() as Express).set('trust proxy', true);
}

const get = async (proto: string) => {
  const res = await rawRequest(`${server.url}/page`, { 'x-forwarded-proto': proto });
  return `${res.headers['x-cache'] as string} ${res.text}`;
};

describe('LarderHttpInterceptor and the request scheme', () => {
  it('keeps an answer per req.protocol under trust proxy', async () => {
    await start(true);
    expect(await get('http')).toBe('MISS http 1');
    expect(await get('https')).toBe('MISS https 2');
    expect(await get('https')).toBe('HIT https 2');
  });

  it('ignores X-Forwarded-Proto without trust proxy', async () => {
    await start(false);
    expect(await get('http')).toBe('MISS http 1');
    expect(await get('https')).toBe('HIT http 1');
  });
});
