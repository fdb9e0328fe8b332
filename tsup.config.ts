import { defineConfig, type Options } from 'tsup';

// One build for every public entry: ESM + CommonJS, each with its own declarations (.d.ts for import,
// .d.cts for require, so TypeScript sees the right module format under node16 resolution).
const entry = {
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
};

const common: Options = {
  entry,
  dts: true,
  // No source maps in the package: the output is unminified, so a stack trace into dist/ reads as it is,
  // and maps without their sources (or the sources beside them) would double what users download.
  sourcemap: false,
  target: 'node20',
  splitting: true,
  treeshake: true,
  // Keep `node:` on built-in imports: Deno, Bun and edge runtimes with Node compatibility need the prefix.
  removeNodeProtocol: false,
  tsconfig: 'tsconfig.build.json',
};

// The dist/ folder is emptied by `npm run build` before both builds start (they run side by side).
export default defineConfig([
  // No shims in ESM: the __dirname shim would run fileURLToPath(import.meta.url) when the root entry
  // loads, which fails where import.meta.url is not a file: URL (edge runtimes).
  { ...common, format: ['esm'], shims: false },
  // import.meta.url in the CommonJS build (util/lazy-require.ts, the dashboard's asset folder).
  { ...common, format: ['cjs'], shims: true },
]);
