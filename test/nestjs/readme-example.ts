// The NestJS example of docs/concepts/http.md, as written there but for the import paths (test/nestjs/readme.test.ts
// checks they match, and `tsc -p test/nestjs` that it compiles). Below the marker: the page's stand-ins.
import { CacheModule } from '@nestjs/cache-manager';
import { Injectable, Module } from '@nestjs/common';
import type { Request } from 'express';
import { createCache, type Cache } from '../../src/index.js';
import { InjectCache, LarderModule, larderKeyvStore } from '../../src/entries/nestjs.js';

type AuthedRequest = Request & { user?: { id: string } }; // what your auth guard sets

@Injectable()
class PlansService {
  constructor(@InjectCache('plans') private readonly plans: Cache<string[]>) {}
  list(org: string): Promise<string[]> {
    return this.plans.getOrSet(org, () => fetchPlans(org));
  }
}

@Module({
  imports: [
    LarderModule.forRoot<AuthedRequest>({
      caches: { plans: { ttl: '1h' }, pages: { maxEntries: 5000, ttl: '5m' } },
      http: {
        cache: 'pages',
        user: (req) => req.user?.id, // guards ran already: this is the identity your guard verified
        rules: [
          { path: '/me/dashboard', ttl: '1m', perUser: true },
          { path: '/orgs/:org/plans', ttl: '5m', tags: ['org:{org}'], shared: true },
        ],
        invalidate: [{ path: '/orgs/:org/plans/*', tags: ['org:{org}'] }],
      },
    }),
    CacheModule.register({
      stores: [larderKeyvStore(createCache({ name: 'nest', ttl: '1m' }), { closeOnDisconnect: true })],
    }),
  ],
  providers: [PlansService],
})
export class AppModule {}
// --- stand-ins
declare function fetchPlans(org: string): Promise<string[]>;
