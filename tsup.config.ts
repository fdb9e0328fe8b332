import { defineConfig } from 'tsup';

// One build for every public entry: ESM + CommonJS + declarations.
export default defineConfig({
  entry: {
    index: 'src/index.ts',
    redis: 'src/entries/redis.ts',
    postgres: 'src/entries/postgres.ts',
    sqlite: 'src/entries/sqlite.ts',
    keyv: 'src/entries/keyv.ts',
    memcached: 'src/entries/memcached.ts',
    tiers: 'src/entries/tiers.ts',
    http: 'src/entries/http.ts',
    express: 'src/entries/express.ts',
    fastify: 'src/entries/fastify.ts',
    nestjs: 'src/entries/nestjs.ts',
    koa: 'src/entries/koa.ts',
    hono: 'src/entries/hono.ts',
    prometheus: 'src/entries/prometheus.ts',
    otel: 'src/entries/otel.ts',
    'test-suite': 'src/entries/test-suite.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  splitting: true,
  treeshake: true,
  // import.meta.url in the CommonJS build (util/lazy-require.ts).
  shims: true,
  tsconfig: 'tsconfig.build.json',
});
