// The docs site: VitePress over docs/, with the TypeDoc API reference built beside it into /api/
// (`npm run docs:build`; `npm run docs` serves it locally). Guides and seed mapping pages that other
// work adds under docs/guides/ and docs/seeds/ join the sidebar by themselves, titled by their `# ` line.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type DefaultTheme } from 'vitepress';

const DOCS = dirname(dirname(fileURLToPath(import.meta.url)));

/** The sidebar items for every page in one folder of docs/, in file-name order, titled by their heading. */
function folder(dir: string): DefaultTheme.SidebarItem[] {
  const path = join(DOCS, dir);
  if (!existsSync(path)) return [];
  return readdirSync(path)
    .filter((file) => file.endsWith('.md') && file !== 'index.md')
    .sort()
    .map((file) => {
      const heading = /^#\s+(.+)$/m.exec(readFileSync(join(path, file), 'utf8'));
      return {
        text: heading?.[1]?.replace(/`/g, '') ?? file.slice(0, -3),
        link: `/${dir}/${file.slice(0, -3)}`,
      };
    });
}

/** A sidebar item for a page only when the page exists (other work may not have written it yet). */
function page(text: string, file: string): DefaultTheme.SidebarItem[] {
  return existsSync(join(DOCS, file)) ? [{ text, link: `/${file.replace(/\.md$/, '')}` }] : [];
}

const sidebar: DefaultTheme.SidebarItem[] = [
  {
    text: 'Start',
    items: [
      { text: 'Getting started', link: '/getting-started' },
      ...page('Install size and dependencies', 'install-size.md'),
    ],
  },
  {
    text: 'Concepts',
    items: [
      { text: 'The engine: MemoryCache', link: '/concepts/engine' },
      { text: 'Read-through: createCache', link: '/concepts/read-through' },
      { text: 'The coherence contract', link: '/concepts/coherence' },
      { text: 'Tiers: Redis and other drivers', link: '/concepts/tiers' },
      { text: 'HTTP response caching', link: '/concepts/http' },
      { text: 'How Larder is built', link: '/architecture' },
    ],
  },
  {
    text: 'Applications',
    items: [
      { text: '000 Provider resources', link: '/apps/provider-resources' },
      { text: '001 Polled stats', link: '/apps/polled-stats' },
      { text: '002 Per-user integrations', link: '/apps/per-user-integrations' },
      { text: '003 Write-invalidated endpoints', link: '/apps/write-invalidated-endpoints' },
      { text: '004 URL-shortener cache manager', link: '/apps/url-shortener' },
    ],
  },
  { text: 'Guides', collapsed: false, items: folder('guides') },
  { text: 'Seed mappings', collapsed: true, items: folder('seeds') },
  {
    text: 'Operations',
    items: [
      { text: 'Admin API', link: '/operations/admin-api' },
      { text: 'Demo and dashboard', link: '/operations/dashboard' },
      { text: 'Metrics and tracing', link: '/operations/metrics' },
      { text: 'Snapshots and warm restarts', link: '/operations/snapshots' },
      { text: 'Sizing advisor', link: '/operations/sizing-advisor' },
      { text: 'Chaos: what each fault costs', link: '/operations/chaos' },
    ],
  },
  {
    text: 'Migrating',
    items: [
      { text: 'From cache-manager / @nestjs/cache-manager', link: '/migrate/cache-manager' },
      { text: 'From bentocache', link: '/migrate/bentocache' },
    ],
  },
  {
    text: 'Benchmarks',
    items: [
      { text: 'Overview', link: '/benchmarks/' },
      { text: 'The engine', link: '/benchmarks/engine' },
      { text: 'Heap per entry', link: '/benchmarks/memory' },
      { text: 'Async hit path', link: '/benchmarks/async' },
      { text: 'Stampede', link: '/benchmarks/stampede' },
      { text: 'Redis', link: '/benchmarks/redis' },
      { text: 'HTTP', link: '/benchmarks/http' },
      { text: 'Hit ratios on real traces', link: '/benchmarks/hit-ratio' },
    ],
  },
].filter((group) => group.items.length > 0);

export default defineConfig({
  title: 'Larder',
  description:
    'A caching toolkit for Node.js services: W-TinyLFU engine, read-through with stampede protection, Redis tier, HTTP caching.',
  lang: 'en',
  // test/docs/site.test.ts builds into a folder of its own, so that a build someone runs meanwhile
  // cannot empty the one it is checking (`npm run docs:build -- --out <dir>/api` moves TypeDoc's too).
  ...(process.env.LARDER_DOCS_OUT === undefined ? {} : { outDir: process.env.LARDER_DOCS_OUT }),
  cleanUrls: false,
  lastUpdated: false,
  // Pages name repository files (src/…, test/…) in prose; links out of docs/ would be dead in the site.
  // Pages are prose about HTTP and templates: a `<prefix>` or `<cache>` outside backticks is text, not a
  // tag for Vue to compile (which would fail the build).
  markdown: { html: false },
  ignoreDeadLinks: [/^\.\.\/(\.\.\/)*(src|test|bench|examples|demo)\//, /^\/api\//],
  themeConfig: {
    nav: [
      { text: 'Getting started', link: '/getting-started' },
      { text: 'Concepts', link: '/concepts/engine' },
      { text: 'Operations', link: '/operations/admin-api' },
      { text: 'Migrating', link: '/migrate/cache-manager' },
      { text: 'Benchmarks', link: '/benchmarks/' },
      { text: 'API reference', link: '/api/index.html', target: '_self' },
    ],
    sidebar,
    outline: { level: [2, 3] },
    search: { provider: 'local' },
  },
});
