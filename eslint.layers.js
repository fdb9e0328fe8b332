// The layer order, checked by lint: each folder of src/ may import only from the folders beneath it.
// util/ and observability/ are the floor; entries/ and index.ts are the roof and may import anything.
const LAYERS = {
  util: [],
  observability: ['util'],
  engine: ['util', 'observability'],
  codec: ['util', 'observability'],
  tiers: ['util', 'observability', 'engine', 'codec'],
  // Store drivers beyond Redis (larder-cache/postgres, /sqlite, /keyv, /memcached) sit at the tiers level.
  drivers: ['util', 'observability', 'codec', 'tiers'],
  persistence: ['util', 'observability', 'engine', 'codec'],
  advisor: ['util', 'observability', 'engine'],
  cache: ['util', 'observability', 'engine', 'codec', 'tiers', 'persistence', 'advisor'],
  metrics: ['util', 'observability', 'engine', 'cache'],
  // larder-cache/otel only subscribes to the tracing channels of observability/ (it knows no cache code).
  otel: ['util', 'observability'],
  http: ['util', 'observability', 'engine', 'cache', 'metrics'],
  // The NestJS module wraps the caches and the HTTP core for Nest's injector (larder-cache/nestjs).
  nestjs: ['util', 'observability', 'engine', 'cache', 'metrics', 'http'],
};
// Folders the cache layer may know only by type (it holds a tier through the L2Tier interface).
const TYPE_ONLY = { cache: ['tiers'] };
const ALL = [...Object.keys(LAYERS), 'entries'];

export const layerRules = Object.entries(LAYERS).map(([folder, below]) => {
  const allowed = new Set([folder, ...below]);
  const forbidden = ALL.filter((f) => !allowed.has(f));
  const typeOnly = TYPE_ONLY[folder] ?? [];
  const patterns = [
    {
      regex: `^(\\.\\./)+(${forbidden.join('|')})(/|\\.js$)`,
      message: `${folder}/ sits below these folders in the layer order (docs/architecture.md): it must not import them.`,
    },
  ];
  if (typeOnly.length > 0) {
    patterns.push({
      regex: `^(\\.\\./)+(${typeOnly.join('|')})/`,
      allowTypeImports: true,
      message: `${folder}/ may know ${typeOnly.join(', ')}/ by type only (see the L2Tier interface).`,
    });
  }
  return {
    files: [`src/${folder}/**/*.ts`],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns }] },
  };
});
